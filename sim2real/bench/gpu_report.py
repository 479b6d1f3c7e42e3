"""``sim2real bench gpu``'s report as text: one progress line per row, and the Markdown tables of the whole run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_KEYS = {"env": ("task", "num_envs", "impl"), "updates": ("algo", "compile", "bf16"), "learn": ("task", "algo")}
"""The fields that name a row of each section."""


def _number(value: Any, digits: int = 0) -> str:
    """A figure with thousands separators, or ``-`` when there is none."""
    return "-" if value is None else f"{value:,.{digits}f}"


def _switch(on: bool) -> str:
    return "on" if on else "off"


def _env_cells(value: dict[str, Any]) -> list[str]:
    return [_number(value["env_steps_per_s"]), _number(value["raw_steps_per_s"]), _number(value["env_over_raw"], 2)]


def _update_cells(value: dict[str, Any]) -> list[str]:
    return [_number(value["updates_per_s"], 1), _number(value["env_steps_per_s"]), _number(value["iteration_ms"], 1)]


def _learn_cells(value: dict[str, Any]) -> list[str]:
    reached = "yes" if value["reached"] else f"no (limit {value['time_limit_s']:.0f} s)"
    return [reached, _number(value["seconds"], 1), _number(value["env_steps"]), _number(value["best"], 3)]


_TABLES: dict[str, tuple[list[str], Callable[[dict[str, Any]], list[str]]]] = {
    "env": (["task", "envs", "MJX", "env steps/s", "raw steps/s", "env / raw"], _env_cells),
    "updates": (["learner", "compile", "bf16", "updates/s", "env steps/s", "ms / iteration"], _update_cells),
    "learn": (["task", "learner", "goal reached", "seconds", "env steps", "best tracking"], _learn_cells),
}
"""Each section's columns (the row's key columns, then its figures) and how a value fills the figures."""


def _key_cells(section: str, row: dict[str, Any]) -> list[str]:
    cells = [row[name] for name in _KEYS[section]]
    return [_switch(cell) if isinstance(cell, bool) else str(cell) for cell in cells]


def format_row(section: str, row: dict[str, Any]) -> str:
    """One progress line: the row's key, then its figures or its reason, and its wall-clock."""
    columns, cells_of = _TABLES[section]
    names = columns[len(_KEYS[section]) :]
    if "value" in row:
        outcome = ", ".join(f"{name} {cell}" for name, cell in zip(names, cells_of(row["value"]), strict=True))
    else:
        outcome = row["reason"]
    took = f" ({row['wall_s']:.0f} s)" if row.get("wall_s") is not None else ""
    return f"{section} {' '.join(_key_cells(section, row))}: {outcome}{took}"


def _title(report: dict[str, Any]) -> str:
    system = report["system"]
    gpu = system["gpu"].get("value", "no GPU")
    driver = f", driver {system['driver']['value']}" if "value" in system["driver"] else ""
    kind = " (dry run on the CPU: tiny sizes, not figures)" if report["dry_run"] else ""
    return f"# sim2real bench gpu: {gpu}{driver}{kind}"


def format_gpu_markdown(report: dict[str, Any]) -> str:
    """The run as Markdown: the machine and versions, then one table per section (a reason where no figure)."""
    versions = ", ".join(f"{name} {version}" for name, version in report["system"]["versions"].items())
    state = "finished" if report["finished"] else "not finished (rows not reached say so)"
    lines = [
        _title(report),
        "",
        f"{versions}.",
        "",
        f"{report['elapsed_s']:.0f} s of a {report['budget_s']:.0f} s budget, {state}.",
    ]
    for section, (columns, cells_of) in _TABLES.items():
        lines += ["", "| " + " | ".join([*columns, "note"]) + " |", "|" + "---|" * (len(columns) + 1)]
        for row in report[section]:
            figures = cells_of(row["value"]) if "value" in row else ["-"] * (len(columns) - len(_KEYS[section]))
            note = row.get("reason", "").replace("|", "\\|")
            lines.append("| " + " | ".join([*_key_cells(section, row), *figures, note]) + " |")
    return "\n".join(lines)
