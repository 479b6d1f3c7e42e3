"""Loop statistics: percentiles equal numpy's over the kept window."""

import numpy as np

from sim2real_runtime.loop_stats import LoopStats


def test_summary_gives_numpys_percentiles_over_the_last_window_samples():
    stats = LoopStats(window=1000)
    samples = np.random.default_rng(0).exponential(0.02, 1500)
    for value in samples:
        stats.add("period", value)
    kept = samples[-1000:]
    summary = stats.summary()["period"]
    assert summary["count"] == 1000
    np.testing.assert_allclose(
        [summary["p50"], summary["p99"], summary["max"]], [*np.percentile(kept, [50, 99]), kept.max()]
    )
