"""``sim2real bench gpu``: every GPU figure of the README in one run, within a time budget, always written down.

The run reads the machine (GPU, driver, package versions), then walks its sections in order: env steps/s at GPU
batch sizes for each MJX implementation, update throughput with torch.compile and bf16 off and on, time to the
``bench learn`` goals (:mod:`sim2real.bench.gpu_plan` has the sizes). Each section gets its share of the budget
left when it starts; the budget is checked between rows, and a row is never cut short (a learning run stops at
its first evaluation past its share). Every row ends with a ``value`` or a ``reason`` (not reached, skipped,
not supported here, failed), and the JSON and the Markdown table are rewritten after each row, so a run that is
killed leaves every figure it took and says which rows it did not reach.
"""

from __future__ import annotations

import gc
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch

from sim2real.bench.gpu_parts import RowSkippedError, measure_env, measure_learning, measure_updates
from sim2real.bench.gpu_plan import SECTIONS, SWITCHES, GpuBenchPlan, share
from sim2real.bench.gpu_report import format_gpu_markdown, format_row
from sim2real.bench.gpu_system import system_info

JSON_NAME = "gpu_bench.json"
"""The report's file name in the output folder."""
MARKDOWN_NAME = "gpu_bench.md"
"""The Markdown table's file name in the output folder."""
NOT_REACHED = "not reached: the run stopped before this row"
"""The reason every row carries until it runs (what a killed run leaves)."""


@dataclass
class Row:
    """One measurement: what identifies it, how to take it, and its outcome."""

    section: str
    """env, updates or learn."""
    key: dict[str, Any]
    """What the row measures (task, sizes, switches)."""
    measure: Callable[[float], dict[str, Any]]
    """Takes the row's share of its section's time left, in seconds, and returns its figures."""
    weight: float = 1.0
    """The row's share of its section's time against the rows after it."""
    outcome: dict[str, Any] = field(default_factory=lambda: {"reason": NOT_REACHED})
    """``{"value": {...}}`` or ``{"reason": "..."}``, with ``wall_s`` once it ran."""

    def as_dict(self) -> dict[str, Any]:
        """The row as it goes into the JSON."""
        return {**self.key, **self.outcome}


def _untimed(measure: Callable[[], dict[str, Any]]) -> Callable[[float], dict[str, Any]]:
    """A measurement that runs to its end whatever time its section has left."""
    return lambda _allowance_s: measure()


def plan_rows(plan: GpuBenchPlan) -> list[Row]:
    """Every row of ``plan``, in the order they run (smaller env batches first, so a short budget gets those)."""
    rows = [
        Row(
            "env",
            {"task": task, "num_envs": size, "impl": impl},
            _untimed(partial(measure_env, plan, task, size, impl)),
        )
        for size in plan.env_sizes
        for task in plan.env_tasks
        for impl in plan.impls
    ]
    rows += [
        Row(
            "updates",
            {"task": plan.update_task, "algo": algo, "compile": compile_on, "bf16": bf16},
            _untimed(partial(measure_updates, plan, algo, compile_on, bf16)),
        )
        for algo in plan.update_algos
        for compile_on, bf16 in SWITCHES
    ]
    rows += [
        Row("learn", {"task": run.task, "algo": run.algo}, partial(measure_learning, plan, run), run.weight)
        for run in plan.learn_runs
    ]
    return rows


def _first_line(exc: BaseException) -> str:
    """The exception's type and the first line of its message (XLA's run to pages), at most 300 characters."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:300]


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None (strict JSON), through lists and dicts."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


class GpuBench:
    """One ``bench gpu`` run: its rows, its clock and its two files."""

    def __init__(
        self, plan: GpuBenchPlan, out_dir: Path, budget_s: float, sections: tuple[str, ...], dry_run: bool
    ) -> None:
        self.plan = plan
        self.out_dir = out_dir
        self.budget_s = budget_s
        self.sections = sections
        self.dry_run = dry_run
        self.rows = plan_rows(plan)
        self.started = time.perf_counter()
        self.finished = False
        self.system = system_info()

    def remaining_s(self) -> float:
        """Seconds of the budget left."""
        return self.budget_s - (time.perf_counter() - self.started)

    def report(self) -> dict[str, Any]:
        """Everything so far as one JSON-ready mapping (``bench: gpu``)."""
        report: dict[str, Any] = {
            "bench": "gpu",
            "dry_run": self.dry_run,
            "budget_s": self.budget_s,
            "sections": list(self.sections),
            "elapsed_s": time.perf_counter() - self.started,
            "finished": self.finished,
            "system": self.system,
        }
        for section in SECTIONS:
            report[section] = [row.as_dict() for row in self.rows if row.section == section]
        return _finite(report)

    def write(self) -> None:
        """Rewrite the JSON and the Markdown table (each replaced whole, never left half written)."""
        report = self.report()
        for name, text in ((JSON_NAME, json.dumps(report, indent=1)), (MARKDOWN_NAME, format_gpu_markdown(report))):
            partial_file = self.out_dir / f".{name}.partial"
            partial_file.write_text(text + "\n")
            os.replace(partial_file, self.out_dir / name)

    def run(self) -> dict[str, Any]:
        """Measure every asked-for section within the budget; returns the final report."""
        self.write()
        asked = [section for section in SECTIONS if section in self.sections]
        for section in SECTIONS:
            rows = [row for row in self.rows if row.section == section]
            if section not in asked:
                for row in rows:
                    row.outcome = {"reason": f"not asked for (--only {' '.join(self.sections)})"}
                continue
            weights = [self.plan.section_weights[name] for name in asked[asked.index(section) :]]
            section_s = share(self.remaining_s(), weights)
            self._run_section(rows, section_s)
        self.finished = True
        self.write()
        return self.report()

    def _run_section(self, rows: list[Row], section_s: float) -> None:
        """Run ``rows`` while the section's ``section_s`` seconds last; the rest are skipped with the reason."""
        deadline = time.perf_counter() + section_s
        for index, row in enumerate(rows):
            left = deadline - time.perf_counter()
            if left <= 0:
                row.outcome = {
                    "reason": f"skipped: the {row.section} section's {section_s:.0f} s of the budget ran out"
                }
            else:
                self._measure(row, share(left, [later.weight for later in rows[index:]]))
            print(format_row(row.section, row.as_dict()), flush=True)
            self.write()

    def _measure(self, row: Row, allowance_s: float) -> None:
        """Take one row; whatever it raises becomes its reason, so the rows after it still run."""
        started = time.perf_counter()
        try:
            row.outcome = {"value": row.measure(allowance_s)}
        except RowSkippedError as exc:
            row.outcome = {"reason": str(exc)}
        except Exception as exc:  # a part this machine cannot run (an install, a kernel, memory) is a reason
            row.outcome = {"reason": f"failed: {_first_line(exc)}"}
        row.outcome["wall_s"] = time.perf_counter() - started
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
