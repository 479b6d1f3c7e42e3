"""A robot model as its makers write it runs unedited: servos become motors, a ground is found or added, MJX's
limits are adapted or refused in one line, in every model path (load, terrain, MuJoCo C, MJX).

The robot of these tests is a 2.5 kg box on four one-joint legs, written like a MuJoCo Menagerie model:
position servos (kp 20, kv 0.5, forcerange +-6), no ground. It starts 4 cm above where its feet touch.
"""

import jax
import mujoco
import numpy as np
import pytest
from mujoco.mjx._src import collision_driver

from sim.mjx_import import mjx
from sim.mjx_limits import self_colliding_bodies
from sim.pd import JointPD, pd_physics
from sim.robot import load_robot
from sim.terrain import TerrainConfig, robot_on_terrain
from sim2real.sim2sim.mujoco_robot import MujocoRobot
from sim2real_runtime.errors import ConfigError
from sim2real_runtime.state import JointCommand
from tests.cli_runner import in_process, one_line_error

LEGS = {"fl": (0.12, 0.08), "fr": (0.12, -0.08), "hl": (-0.12, 0.08), "hr": (-0.12, -0.08)}
SERVO = '<position name="{leg}" joint="{leg}" kp="20" kv="0.5" forcerange="-6 6"/>'
MOTOR = '<motor name="{leg}" joint="{leg}" ctrlrange="-6 6"/>'


def mjcf(
    actuator=SERVO,
    option="",
    world="",
    leg_geom='type="capsule" fromto="0 0 0 0 0 -0.12" size="0.015"',
    foot='type="sphere" size="0.02"',
    extra="",
):
    """The four-legged test robot's MJCF (see the module docstring), with parts swapped in."""
    legs = "".join(
        f'<body name="{leg}" pos="{x} {y} 0"><joint name="{leg}" axis="0 1 0" range="-1 1"/>'
        f'<geom name="{leg}_leg" {leg_geom} mass="0.1"/>'
        f'<geom name="{leg}_foot" {foot} pos="0 0 -0.14" mass="0.05"/></body>'
        for leg, (x, y) in LEGS.items()
    )
    actuators = "".join(actuator.format(leg=leg) for leg in LEGS)
    return (
        f'<mujoco model="box_dog"><compiler angle="radian"/><option timestep="0.002" {option}/>{extra}'
        f"<worldbody>{world}"
        f'<body name="trunk" pos="0 0 0.2"><freejoint/><site name="imu"/>'
        f'<geom name="trunk" type="box" size="0.15 0.08 0.03" mass="2"/>{legs}</body></worldbody>'
        f"<actuator>{actuators}</actuator></mujoco>"
    )


def robot_yaml(gains=""):
    """The test robot's YAML; ``gains`` adds kp/kd/effort_limit to every joint (servo robots may omit them)."""
    joints = "".join(
        f"  - {{name: {leg}, range: [-1, 1], default_pos: 0.0, velocity_limit: 20{gains}}}\n" for leg in LEGS
    )
    feet = ", ".join(f"{leg}_foot" for leg in LEGS)
    return (
        f"name: box_dog\nmjcf: box_dog.xml\ncontrol: position\naction_scale: 0.3\ncontrol_dt: 0.02\n"
        f"base_body: trunk\nimu_site: imu\nfoot_geoms: [{feet}]\ntermination_contact_bodies: [trunk]\n"
        f"joints:\n{joints}"
    )


def write_robot(folder, xml, gains=""):
    """Write ``box_dog.xml`` and ``robot.yaml`` into ``folder``; return the YAML's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "box_dog.xml").write_text(xml)
    (folder / "robot.yaml").write_text(robot_yaml(gains))
    return folder / "robot.yaml"


def hold(robot, target, steps):
    """Trunk positions of the robot in MuJoCo C under the PD law toward ``target`` (the sim2sim robot)."""
    joints = robot.config.joints
    sim = MujocoRobot(robot, robot.mj_model)
    kp, kd = np.array([j.kp for j in joints]), np.array([j.kd for j in joints])
    sim.send(JointCommand(target, np.zeros(4), kp, kd, np.zeros(4)), np.zeros(4))
    qpos = []
    for _ in range(steps):
        sim.step(1)
        qpos.append(sim.data.qpos.copy())
    return np.array(qpos)


@pytest.fixture
def servo_dog(tmp_path):
    """The servo robot's YAML (gains omitted: the servo's are the defaults)."""
    return write_robot(tmp_path / "servo", mjcf())


def test_servos_become_the_motors_the_pd_law_drives_with_their_gains_as_defaults(servo_dog, tmp_path):
    servo = load_robot(servo_dog)
    twin = load_robot(write_robot(tmp_path / "motor", mjcf(MOTOR), ", kp: 20, kd: 0.5, effort_limit: 6"))
    assert [(j.kp, j.kd, j.effort_limit) for j in servo.config.joints] == [(20.0, 0.5, 6.0)] * 4
    assert sum("a servo on joint" in note for note in servo.notes) == 4
    model = servo.mj_model
    assert (model.actuator_biastype == mujoco.mjtBias.mjBIAS_NONE).all()
    np.testing.assert_array_equal(model.actuator_ctrlrange, twin.mj_model.actuator_ctrlrange)
    target = np.array([0.3, -0.3, 0.2, -0.2])
    np.testing.assert_allclose(hold(servo, target, 60), hold(twin, target, 60), atol=1e-12)


def test_the_servo_robot_moves_alike_in_mjx_and_mujoco_c(servo_dog):
    robot = load_robot(servo_dog)
    target = np.array([0.3, -0.3, 0.2, -0.2])
    c_qpos = hold(robot, target, 20)[-1]
    model = mjx.put_model(robot.mj_model)
    data = mjx.make_data(robot.mj_model)
    ones = np.ones(4)
    step = jax.jit(lambda d: pd_physics(model, d, target, JointPD.of(robot), 20, (ones, ones, ones)))
    np.testing.assert_allclose(np.asarray(step(data).qpos), c_qpos, atol=2e-4)
    assert c_qpos[7] > 0.15  # the first leg moved most of the way to its target (0.3) in 40 ms


def test_a_model_without_ground_gets_the_floor_and_stands_on_it(servo_dog, capsys):
    robot = load_robot(servo_dog)
    assert robot.ground_geom == "floor" and robot.mj_model.geom("floor").type == mujoco.mjtGeom.mjGEOM_PLANE
    assert any("added the project's floor" in note for note in robot.notes)
    trunk = hold(robot, np.zeros(4), 750)[:, 2]  # 1.5 s holding the default pose
    assert trunk.min() > 0.14 and abs(trunk[-1] - 0.16) < 0.005  # fell 4 cm onto its feet and stays there
    result = in_process(capsys, "inspect", "robot", servo_dog)
    assert result.returncode == 0, result.stderr
    assert "ground            floor" in result.stdout and "added the project's floor" in result.stdout
    assert "became a torque motor" in result.stdout and "physics_dt" in result.stdout


def test_a_ground_named_otherwise_is_the_ground(tmp_path):
    plane = '<geom name="groundplane" type="plane" size="0 0 0.05"/>'
    robot = load_robot(write_robot(tmp_path, mjcf(world=plane)))
    assert (
        robot.ground_geom == "groundplane" and mujoco.mj_name2id(robot.mj_model, mujoco.mjtObj.mjOBJ_GEOM, "floor") < 0
    )
    assert "ground: the MJCF's plane 'groundplane'" in robot.notes


def test_a_legged_task_builds_on_a_robot_without_ground(servo_dog):
    from tasks.registry import make_env

    env = make_env("quadruped_joystick_flat", {"robot": str(servo_dog)})
    assert env.mj_model.geom("floor").id in env.targets.friction_geoms


@pytest.mark.slow
def test_a_legged_task_resets_and_steps_in_mjx_on_a_robot_without_ground(servo_dog):
    from tasks.registry import make_env

    env = make_env("quadruped_joystick_flat", {"robot": str(servo_dog)})
    state, step = jax.jit(env.reset)(jax.random.PRNGKey(0)), jax.jit(env.step)
    for _ in range(5):
        state = step(state, np.zeros(env.action_size, np.float32))
    assert np.isfinite(np.asarray(state.obs["actor"])).all() and float(state.pipeline_state.qpos[2]) > 0.1


def test_condim_1_under_elliptic_cones_is_raised_to_3_for_self_contacts(tmp_path, capsys):
    xml = mjcf(option='cone="elliptic"', extra='<default><geom condim="1"/></default>')
    robot = load_robot(write_robot(tmp_path, xml))
    [note] = [n for n in robot.notes if "condim 1 raised to 3" in n]
    assert "geom 'fl_leg'" in note and note in capsys.readouterr().err
    assert robot.mj_model.geom("floor").condim == 3 and robot.mj_model.geom("fl_leg").condim == 3
    mjx.make_data(robot.mj_model)  # MJX: "condim=1 with ConeType.ELLIPTIC not implemented" before


def test_condim_1_against_the_world_under_elliptic_cones_is_refused_in_one_line(tmp_path, capsys):
    plane = '<geom name="ground" type="plane" size="0 0 0.05" condim="1"/>'
    xml = mjcf(option='cone="elliptic"', world=plane, extra='<default><geom condim="1"/></default>')
    line = one_line_error(in_process(capsys, "validate", write_robot(tmp_path, xml)))
    assert "box_dog.xml: geom 'ground': touches geom '" in line and "condim 1 under elliptic cones" in line
    assert line.endswith('give it condim 3 or set <option cone="pyramidal"/> in the MJCF')


def test_a_cylinder_box_self_collision_is_turned_off_between_those_bodies(tmp_path):
    cylinder = 'type="cylinder" fromto="0 0 0 0 0 -0.12" size="0.015"'
    robot = load_robot(write_robot(tmp_path, mjcf(leg_geom=cylinder, foot='type="box" size="0.02 0.02 0.02"')))
    [note] = [n for n in robot.notes if "self-collision" in n]
    assert note == (
        "self-collision turned off between bodies fl-fr, fl-hl, fl-hr, fr-hl, fr-hr, hl-hr: "
        "MJX cannot collide their geoms"
    )
    assert robot.mj_model.geom("fl_leg").type == mujoco.mjtGeom.mjGEOM_CYLINDER and robot.mj_model.nexclude == 6
    mjx.put_model(robot.mj_model)  # "(CYLINDER, BOX) collisions not implemented" before


def test_a_cylinder_touching_a_box_of_the_world_collides_as_a_capsule_with_its_inertia_kept(tmp_path):
    cylinder = 'type="cylinder" fromto="0 0 0 0 0 -0.12" size="0.015"'
    step = '<geom name="step" type="box" pos="1 0 0.02" size="0.2 0.5 0.02"/>'
    xml = mjcf(leg_geom=cylinder, world=step)
    raw = mujoco.MjModel.from_xml_string(xml)
    robot = load_robot(write_robot(tmp_path, xml))
    assert robot.mj_model.geom("fl_leg").type == mujoco.mjtGeom.mjGEOM_CAPSULE
    assert robot.mj_model.geom_size[robot.mj_model.geom("fl_leg").id, :2] == pytest.approx([0.015, 0.045])
    assert any("'fl_leg' (a cylinder) collides as a capsule" in note for note in robot.notes)
    np.testing.assert_allclose(robot.mj_model.body_mass[1:], raw.body_mass[1:])
    np.testing.assert_allclose(robot.mj_model.body_inertia[1:], raw.body_inertia[1:], rtol=1e-9)
    mjx.put_model(robot.mj_model)


def test_a_cylinder_foot_on_rough_terrain_collides_as_a_sphere(tmp_path):
    robot = load_robot(write_robot(tmp_path, mjcf(foot='type="cylinder" size="0.02 0.01"')))
    rough = robot_on_terrain(robot, TerrainConfig(kind="rough", size=2.0, resolution=0.1))
    assert rough.mj_model.geom("floor").type == mujoco.mjtGeom.mjGEOM_HFIELD
    assert rough.mj_model.geom("fl_foot").type == mujoco.mjtGeom.mjGEOM_SPHERE
    assert any("'fl_foot' (a cylinder) collides as a sphere" in note for note in rough.notes)
    assert robot.mj_model.geom("fl_foot").type == mujoco.mjtGeom.mjGEOM_CYLINDER  # flat: MJX collides it
    mjx.put_model(rough.mj_model)


def test_an_ellipsoid_foot_on_rough_terrain_is_refused_in_one_line(tmp_path):
    robot = load_robot(write_robot(tmp_path, mjcf(foot='type="ellipsoid" size="0.02 0.02 0.015"')))
    with pytest.raises(ConfigError) as caught:
        robot_on_terrain(robot, TerrainConfig(kind="rough", size=2.0, resolution=0.1))
    assert len(caught.value.problems) == 4
    assert str(caught.value.problems[0]).startswith(f"{robot.mjcf_path}: geom 'fl_foot': MJX cannot collide")


TENDONS = "".join(f'<fixed name="t_{leg}"><joint joint="{leg}" coef="1"/></fixed>' for leg in LEGS)
REFUSED_ACTUATORS = {
    "activation dynamics": (
        '<position name="{leg}" joint="{leg}" kp="20" timeconst="0.05"/>',
        "",
        "actuator 'fl' has activation dynamics (filterexact), which delay a PD torque; remove its timeconst/dyntype "
        "in the MJCF",
    ),
    "tendon transmission": (
        '<motor name="{leg}" tendon="t_{leg}" ctrlrange="-6 6"/>',
        f"<tendon>{TENDONS}</tendon>",
        "0 MJCF actuators drive joint 'fl' through a joint transmission (tendon, site and slider-crank actuators "
        'cannot carry a joint torque); add <motor joint="fl"/> to the MJCF',
    ),
}


@pytest.mark.parametrize("case", REFUSED_ACTUATORS)
def test_actuators_that_cannot_carry_a_joint_torque_are_refused_one_line_each(case, tmp_path, capsys):
    actuator, extra, first = REFUSED_ACTUATORS[case]
    path = write_robot(tmp_path, mjcf(actuator, extra=extra), ", effort_limit: 6")
    result = in_process(capsys, "validate", path)
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and len(lines) == 4, result.stderr
    assert lines[0] == f"{path}: joints[0].actuator: {first}"


def test_the_runtime_asks_for_the_effort_limit_a_servo_yaml_omits(servo_dog):
    from sim2real_runtime import RobotSpecError, load_robot_spec

    with pytest.raises(RobotSpecError) as caught:
        load_robot_spec(servo_dog)
    assert str(caught.value).startswith(f"{servo_dog}: joints[0].effort_limit: not given; training took it from")


def test_self_collision_false_leaves_only_contacts_with_the_world_in_mjx_and_mujoco_c(tmp_path):
    colliding = load_robot(write_robot(tmp_path / "on", mjcf()))
    yaml_path = write_robot(tmp_path / "off", mjcf())
    yaml_path.write_text(yaml_path.read_text() + "self_collision: false\n")
    apart = load_robot(yaml_path)
    assert self_colliding_bodies(colliding.mj_model) and not self_colliding_bodies(apart.mj_model)
    [note] = [n for n in apart.notes if n.startswith("self-collision off")]
    assert "fl-fr" in note and "self_collision: false" in note
    floor = apart.mj_model.geom("floor").id
    feet_on_floor = {(int(g1), int(g2)) for g1, g2, _ in collision_driver.geom_pairs(apart.mj_model)}
    assert all((floor, apart.mj_model.geom(f"{leg}_foot").id) in feet_on_floor for leg in LEGS)
    assert hold(apart, np.zeros(4), 500)[-1, 2] > 0.1  # still stands on its feet in MuJoCo C
