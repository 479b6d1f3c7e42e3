import subprocess
import sys
from pathlib import Path

import mujoco
import pytest

from sim.assets import shipped_robot_names
from sim.errors import ConfigError
from sim.robot import load_robot
from sim2real.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
MALFORMED_ROBOTS = sorted((DATA / "malformed_robots").glob("*.yaml"))
MALFORMED_TASKS = sorted((DATA / "tasks" / "malformed").glob("*.yaml"))


def _expectation(path):
    header = dict(line[2:].split(": ", 1) for line in path.read_text().splitlines()[:2])
    return header["expect-field"], header["expect-text"]


@pytest.mark.parametrize("name", shipped_robot_names())
def test_shipped_robot_loads_and_its_joint_table_points_into_the_mjcf(name):
    robot = load_robot(name)
    for i, joint in enumerate(robot.joint_names):
        jid = mujoco.mj_name2id(robot.mj_model, mujoco.mjtObj.mjOBJ_JOINT, joint)
        assert robot.joint_ids[i] == jid
        assert robot.qpos_adr[i] == robot.mj_model.jnt_qposadr[jid]
        assert robot.mj_model.actuator_trnid[robot.actuator_ids[i], 0] == jid


def test_the_corpus_holds_at_least_ten_malformed_robots():
    assert len(MALFORMED_ROBOTS) >= 10


@pytest.mark.parametrize("path", MALFORMED_ROBOTS + MALFORMED_TASKS, ids=lambda p: p.stem)
def test_malformed_yaml_is_rejected_with_one_line_naming_file_and_field(path, capsys):
    field, text = _expectation(path)
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert out.out == "" and len(lines) == 1, lines
    assert lines[0].startswith(f"{path}: {field}: "), lines[0]
    assert text in lines[0]
    assert "Traceback" not in out.err


def test_load_robot_raises_a_config_error_not_a_traceback_for_a_bad_file():
    with pytest.raises(ConfigError) as info:
        load_robot(MALFORMED_ROBOTS[0])
    assert all(str(p).startswith(str(MALFORMED_ROBOTS[0])) for p in info.value.problems)


def test_validate_exits_zero_for_valid_robot_and_task_files(capsys):
    files = [load_robot("cartpole").yaml_path, DATA / "tasks" / "valid_cartpole_noisy.yaml"]
    assert main(["validate", *map(str, files)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(": ok (" in line for line in out)


def test_validate_console_script_reports_every_bad_file_one_line_each_without_traceback():
    bad = [MALFORMED_ROBOTS[0], MALFORMED_TASKS[0]]
    good = load_robot("cartpole").yaml_path
    result = subprocess.run(
        [sys.executable, "-m", "sim2real", "validate", str(bad[0]), str(good), str(bad[1])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert [line.split(":")[0] for line in result.stderr.strip().splitlines()] == [str(p) for p in bad]
    assert result.stdout.strip() == f"{good}: ok (robot cartpole: 1 actuated joint, 1.10 kg)"
