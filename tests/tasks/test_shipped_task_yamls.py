"""The task YAMLs shipped in assets/tasks validate and build their envs (what `sim2real train --task F` does first)."""

from pathlib import Path

import pytest

from sim.terrain_grid import tile_kinds
from tasks.registry import load_task_yaml

TASK_YAMLS = sorted((Path(__file__).parents[2] / "assets" / "tasks").glob("*.yaml"))


def test_assets_ship_task_yamls():
    assert len(TASK_YAMLS) >= 2


@pytest.mark.parametrize("path", TASK_YAMLS, ids=lambda p: p.name)
def test_each_shipped_task_yaml_validates_and_builds_its_env(path):
    spec, config = load_task_yaml(path)
    env = spec.build(config)
    assert env.observation_size["actor"][0] > 0


def test_the_stairs_task_puts_stairs_in_its_terrain_grid():
    _, config = load_task_yaml(next(p for p in TASK_YAMLS if p.name == "quadruped_stairs.yaml"))
    assert "stairs" in tile_kinds(config.terrain) and config.terrain.tile.descending
