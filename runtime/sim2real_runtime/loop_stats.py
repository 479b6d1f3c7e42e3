"""Timing samples of a control loop (periods, latencies), kept in bounded windows and summarised as percentiles."""

from __future__ import annotations

import collections

import numpy as np


class LoopStats:
    """Named series of durations in seconds, each keeping its last ``window`` samples."""

    def __init__(self, window: int = 100_000) -> None:
        self.window = window
        self.series: dict[str, collections.deque[float]] = {}

    def add(self, name: str, seconds: float) -> None:
        """Record one sample of ``name``."""
        series = self.series.get(name)
        if series is None:  # not setdefault: that would build a deque on every call of a control tick
            series = self.series[name] = collections.deque(maxlen=self.window)
        series.append(float(seconds))

    def summary(self) -> dict[str, dict[str, float]]:
        """Per series: sample count, p50, p99 and max, in seconds."""
        out = {}
        for name, values in self.series.items():
            samples = np.asarray(values)
            if samples.size:
                p50, p99 = np.percentile(samples, [50, 99])
                out[name] = {
                    "count": int(samples.size),
                    "p50": float(p50),
                    "p99": float(p99),
                    "max": float(samples.max()),
                }
        return out
