"""Learning outcomes on cart-pole balance: a fast rising-return check, and the slow threshold runs."""

import pytest

from policies.env_bridge import on_jax_arrays
from policies.train_config import resolve_train_config
from policies.trainer import Trainer

SHORT = {"episode_length": 200}


def test_fasttd3_return_rises_within_a_few_thousand_updates(tmp_path):
    flags = {"env": SHORT, "num_envs": 16, "total_steps": 24_000, "eval_every": 8_000, "checkpoint_every": 24_000}
    config = resolve_train_config("cartpole_balance", "fasttd3", flags=flags)
    trainer = Trainer(config, tmp_path, progress=False)
    untrained = trainer.evaluator.returns(
        on_jax_arrays(trainer.agent.act, trainer.device), trainer.evaluator_rng(0)
    ).mean()
    evals = trainer.run()
    assert max(p.mean_return for p in evals) > untrained + 20, (untrained, evals)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("algo", ["fasttd3", "fastsac"])
def test_learner_reaches_800_on_cartpole_balance_within_400k_env_steps(tmp_path, algo):
    config = resolve_train_config("cartpole_balance", algo, flags={"total_steps": 400_000})
    evals = Trainer(config, tmp_path, progress=False).run(stop_when=lambda p: p.mean_return >= 800)
    assert max(p.mean_return for p in evals) >= 800, evals
