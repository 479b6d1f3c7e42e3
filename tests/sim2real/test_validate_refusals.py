"""`sim2real validate` on malformed robot and task YAML: one line per problem naming file and field, exit 2."""

from pathlib import Path

import pytest

from sim.assets import robot_yaml_path
from sim2real_runtime.yaml_io import MAX_YAML_BYTES
from tests.cli_runner import in_process, one_line_error

DATA = Path(__file__).resolve().parents[1] / "data"
QUADRUPED = robot_yaml_path("quadruped").parent
CARTPOLE_XML = robot_yaml_path("cartpole").parent / "cartpole.xml"

CARTPOLE_YAML = """name: cartpole
mjcf: {mjcf}
control: torque
action_scale: 10.0
base_body: cart
joints:
  - {{name: slider, actuator: slide, default_pos: 0.0, range: [-1.8, 1.8], kp: {kp}, kd: {kd},
     effort_limit: 10.0, velocity_limit: 10.0}}
"""
"""The shipped cart-pole's robot YAML, with its MJCF, kp and kd to fill in."""


def cartpole_yaml(folder: Path, kp: str = "0.0", kd: str = "0.0", mjcf: Path = CARTPOLE_XML) -> Path:
    """A cart-pole robot YAML in ``folder`` with these kp, kd and MJCF entries, written as given."""
    path = folder / "robot.yaml"
    path.write_text(CARTPOLE_YAML.format(mjcf=mjcf, kp=kp, kd=kd))
    return path


def quadruped_task_yaml(folder: Path, old: str, new: str) -> Path:
    """A quadruped task YAML in ``folder`` on a copy of the shipped quadruped whose MJCF has ``old`` replaced."""
    xml = (QUADRUPED / "quadruped.xml").read_text()
    assert old in xml
    (folder / "quadruped.xml").write_text(xml.replace(old, new))
    (folder / "robot.yaml").write_text((QUADRUPED / "robot.yaml").read_text())
    task = folder / "task.yaml"
    task.write_text("task: quadruped_joystick_flat\nrobot: robot.yaml\n")
    return task


ELLIPSOIDS = {
    "termination_contact_bodies[0]": (
        'name="trunk_collision" class="collision" type="box"',
        'name="trunk_collision" class="collision" type="ellipsoid"',
        "geom trunk_collision has type ellipsoid",
    ),
    "foot_geoms[0]": (
        '<geom name="FL_foot" class="foot"',
        '<geom name="FL_foot" class="foot" type="ellipsoid" size="0.02 0.02 0.03"',
        "geom FL_foot has type ellipsoid",
    ),
}
"""Robot YAML field -> (MJCF text, its ellipsoid replacement, the problem named)."""


@pytest.mark.parametrize("field", ELLIPSOIDS)
def test_an_ellipsoid_where_a_legged_task_measures_ground_clearance_is_refused_on_one_line(field, tmp_path, capsys):
    old, new, text = ELLIPSOIDS[field]
    task = quadruped_task_yaml(tmp_path, old, new)
    result = in_process(capsys, "validate", task)
    assert result.returncode == 2
    line = one_line_error(result)
    assert line.startswith(f"{task}: robot: {tmp_path / 'robot.yaml'}: {field}: {text}; ground clearance needs")


def test_validate_reports_the_problems_of_every_file_it_is_given(tmp_path, capsys):
    (tmp_path / "legged").mkdir()
    egg = quadruped_task_yaml(tmp_path / "legged", *ELLIPSOIDS["termination_contact_bodies[0]"][:2])
    kp_yes = cartpole_yaml(tmp_path, kp="yes")
    deep = tmp_path / "deep.yaml"
    deep.write_text("name: " + "[" * 20_000 + "]" * 20_000 + "\n")
    good = robot_yaml_path("cartpole")
    result = in_process(capsys, "validate", egg, kp_yes, deep, good)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert [line.split(": ")[0] for line in lines] == [str(egg), str(kp_yes), str(deep)]
    assert result.stdout.strip() == f"{good}: ok (robot cartpole: 1 actuated joint, 1.10 kg)"


def test_a_20000_deep_nested_list_is_refused_on_one_line(tmp_path, capsys):
    path = tmp_path / "deep.yaml"
    path.write_text("joints: " + "[" * 20_000 + "]" * 20_000 + "\n")
    line = one_line_error(in_process(capsys, "validate", path))
    assert line == f"{path}: -: lists or mappings nested too deeply to read; flatten them"


@pytest.mark.parametrize(
    ("kp", "hint"),
    [
        ("yes", "(got True); YAML reads yes/no/true/false/on/off as booleans: write a number"),
        ("true", "(got True); YAML reads yes/no/true/false/on/off as booleans: write a number"),
        ('"35"', "(got '35'); write a plain number (no quotes, no units)"),
    ],
)
def test_a_boolean_or_a_string_for_a_robot_number_is_refused(kp, hint, tmp_path, capsys):
    path = cartpole_yaml(tmp_path, kp=kp)
    result = in_process(capsys, "validate", path)
    assert result.returncode == 2
    assert one_line_error(result) == f"{path}: joints[0].kp: Input should be a valid number {hint}"


@pytest.mark.parametrize(
    ("line", "field", "text"),
    [
        ("episode_length: '500'", "episode_length", "valid integer (got '500')"),
        ("episode_length: 500.0", "episode_length", "valid integer (got 500.0); write a whole number"),
        ("action_delay_steps: on", "action_delay_steps", "valid integer (got True)"),
        ("obs_noise: {pole_angle: yes}", "obs_noise.pole_angle", "valid number (got True)"),
        ("randomization: {pole_mass_scale: [no, 1.5]}", "randomization.pole_mass_scale[0]", "valid number"),
    ],
)
def test_a_boolean_string_or_fraction_for_a_task_number_is_refused(line, field, text, tmp_path, capsys):
    path = tmp_path / "task.yaml"
    path.write_text(f"task: cartpole_balance\n{line}\n")
    result = in_process(capsys, "validate", path)
    assert result.returncode == 2
    error = one_line_error(result)
    assert error.startswith(f"{path}: {field}: Input should be a ") and text in error


def test_whole_numbers_and_exponent_notation_still_pass_as_numbers(tmp_path, capsys):
    path = cartpole_yaml(tmp_path, kp="35", kd="1e-3")
    result = in_process(capsys, "validate", path)
    assert result.returncode == 0, result.stderr


def test_every_unknown_reward_term_is_named_on_the_task_yaml_not_its_robot(tmp_path, capsys):
    path = tmp_path / "task.yaml"
    path.write_text(
        "task: quadruped_joystick_flat\nrobot: quadruped\n"
        "reward_weights: {tracking_lin_vel: 1.0, moonwalk: 2.0, backflip: 1.0}\n"
    )
    result = in_process(capsys, "validate", path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    prefixes = [
        f"{path}: reward_weights.{term}: unknown reward term; known terms: " for term in ("moonwalk", "backflip")
    ]
    assert [line[: len(prefix)] for line, prefix in zip(lines, prefixes, strict=True)] == prefixes


def test_a_yaml_file_over_the_size_cap_is_refused_before_it_is_parsed(tmp_path, capsys):
    path = tmp_path / "garbage.yaml"
    path.write_text("}{ [: &*! garbage ]\n" * (10 * 2**20 // 20))
    assert path.stat().st_size > MAX_YAML_BYTES
    line = one_line_error(in_process(capsys, "validate", path))
    assert line.startswith(f"{path}: -: is 10.0 MiB, over the 1 MiB limit of YAML files")


def test_an_mjcf_entry_naming_a_folder_is_refused_as_a_folder(tmp_path, capsys):
    (tmp_path / "models").mkdir()
    path = cartpole_yaml(tmp_path, mjcf=Path("models"))
    line = one_line_error(in_process(capsys, "validate", path))
    assert line == f"{path}: mjcf: {tmp_path / 'models'} is a folder; name the MJCF file inside it"


def test_mujocos_whole_compile_message_is_kept_on_one_line(capsys):
    path = DATA / "malformed_robots" / "mjcf_does_not_compile.yaml"
    line = one_line_error(in_process(capsys, "validate", path))
    assert line.endswith(
        "MuJoCo cannot compile broken_model.xml: XML Error: unknown default class name 'missing' | "
        "Element 'joint', line 5"
    )


def test_a_list_used_as_a_mapping_key_is_refused_as_invalid_yaml(tmp_path, capsys):
    path = tmp_path / "robot.yaml"
    path.write_text("? [name, mjcf]\n: cartpole\n")
    line = one_line_error(in_process(capsys, "validate", path))
    assert line == f"{path}: -: invalid YAML at line 1, column 3: a list or mapping used as a key; fix the syntax"


@pytest.mark.parametrize("command", ["validate", "train"])
def test_a_50_hz_task_on_a_robot_yaml_declaring_100_hz_is_refused_in_one_line_naming_both(command, tmp_path, capsys):
    robot = tmp_path / "robot.yaml"
    robot.write_text((QUADRUPED / "robot.yaml").read_text().replace("control_dt: 0.02", "control_dt: 0.01"))
    (tmp_path / "quadruped.xml").write_text((QUADRUPED / "quadruped.xml").read_text())
    task = tmp_path / "task.yaml"
    task.write_text("task: quadruped_joystick_flat\nrobot: robot.yaml\n")
    args = [task] if command == "validate" else ["--task", task, "--run-dir", tmp_path / "run"]
    result = in_process(capsys, command, *args)
    line = one_line_error(result)
    assert result.returncode == 2 and str(task) in line and str(robot) in line, line
    assert "control_dt" in line and "0.02 s (50 Hz)" in line and "0.01 s (100 Hz)" in line, line
    assert not (tmp_path / "run").exists()
