import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import mujoco
import pytest

from sim.assets import shipped_robot_names
from sim.robot import load_robot
from sim2real.cli import main
from sim2real_runtime.errors import ConfigError

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


ACCEPTANCE_CASES = {
    "joint_missing_from_mjcf",
    "duplicated_joint",
    "default_outside_range",
    "negative_gain",
    "mirror_not_a_permutation",
    "unknown_key",
    "units_in_value",
    "mjcf_not_found",
    "menagerie_offline",
}
"""Corpus files for the cases issue 6 names (joint absent from the MJCF, ..., Menagerie name offline)."""


@pytest.fixture(autouse=True)
def _offline_menagerie(tmp_path, monkeypatch):
    """An empty Menagerie cache and an archive host that refuses connections: the offline case, on any machine."""
    monkeypatch.setenv("MENAGERIE_CACHE_DIR", str(tmp_path / "menagerie"))
    monkeypatch.setenv("MENAGERIE_BASE_URL", "http://127.0.0.1:9/assets")
    monkeypatch.delenv("MENAGERIE_ROOT", raising=False)


def test_the_corpus_holds_at_least_fifteen_malformed_files_covering_the_named_cases():
    assert len(MALFORMED_ROBOTS) + len(MALFORMED_TASKS) >= 15
    assert {p.stem for p in MALFORMED_ROBOTS + MALFORMED_TASKS} >= ACCEPTANCE_CASES


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


def test_validate_console_script_reports_every_bad_file_one_line_each_without_traceback(tmp_path):
    bad = MALFORMED_ROBOTS + MALFORMED_TASKS
    good = load_robot("cartpole").yaml_path
    env = {
        **os.environ,
        "MENAGERIE_CACHE_DIR": str(tmp_path / "menagerie"),
        "MENAGERIE_BASE_URL": "http://127.0.0.1:9/assets",
    }
    result = subprocess.run(
        [sys.executable, "-m", "sim2real", "validate", str(good), *map(str, bad)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(str(DATA))]
    assert [line.split(": ")[0] for line in lines] == [str(p) for p in bad]
    for path, line in zip(bad, lines, strict=True):
        field, text = _expectation(path)
        assert line.startswith(f"{path}: {field}: ") and text in line, line
    assert result.stdout.strip() == f"{good}: ok (robot cartpole: 1 actuated joint, 1.10 kg)"


def test_a_menagerie_reference_without_the_package_names_the_extra_to_install(monkeypatch, tmp_path):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mujoco_menagerie" else real_find_spec(name, *a)
    )
    with pytest.raises(ConfigError) as info:
        load_robot(DATA / "malformed_robots" / "menagerie_offline.yaml")
    (problem,) = info.value.problems
    assert problem.field == "mjcf" and "pip install 'sim2real-stack[menagerie]'" in problem.message
