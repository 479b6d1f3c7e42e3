"""Velocity commands: ranges, the standing fraction, holding and redrawing."""

import jax
import numpy as np
import pytest
from pydantic import ValidationError

from sim.commands import VelocityCommandConfig, next_command, sample_command

DRAWS = 4000


def test_commands_lie_in_their_ranges_and_a_fifth_of_them_stand_still():
    config = VelocityCommandConfig(vx=(-1.5, 1.5), vy=(-0.8, 0.8), yaw_rate=(-1.2, 1.2), standing_fraction=0.2)
    commands, holds = jax.jit(jax.vmap(lambda k: sample_command(k, config)))(
        jax.random.split(jax.random.PRNGKey(0), DRAWS)
    )
    commands, holds = np.asarray(commands), np.asarray(holds)
    standing = (commands == 0).all(axis=1)
    assert standing.mean() == pytest.approx(0.2, abs=0.025)
    moving = commands[~standing]
    for axis, (low, high) in enumerate([(-1.5, 1.5), (-0.8, 0.8), (-1.2, 1.2)]):
        assert moving[:, axis].min() >= low and moving[:, axis].max() <= high
        assert moving[:, axis].min() < low + 0.05 and moving[:, axis].max() > high - 0.05
    assert holds.min() >= 250 and holds.max() <= 500


def test_a_command_holds_until_its_steps_run_out_then_is_redrawn():
    config = VelocityCommandConfig(standing_fraction=0.0)
    command = np.array([0.3, 0.1, -0.2])
    held, left = next_command(jax.random.PRNGKey(1), config, command, np.int32(5))
    assert np.allclose(held, command) and int(left) == 4
    fresh, left = next_command(jax.random.PRNGKey(1), config, command, np.int32(1))
    assert not np.allclose(fresh, command) and 250 <= int(left) <= 500


@pytest.mark.parametrize("steps", [(0, 5), (10, 5)])
def test_resample_steps_must_be_an_ordered_positive_range(steps):
    with pytest.raises(ValidationError, match="resample_steps"):
        VelocityCommandConfig(resample_steps=steps)
