"""Measured figures, their targets, and how they are printed (a table) and saved (JSON)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Compare = Literal[">=", "<="]


@dataclass(frozen=True)
class Figure:
    """One measured number, with an optional target it is checked against."""

    area: str
    name: str
    value: float
    unit: str
    target: float | None = None
    compare: Compare = ">="
    note: str = ""

    @property
    def passed(self) -> bool | None:
        """None without a target; else whether the value meets it."""
        if self.target is None:
            return None
        if self.compare == ">=":
            return self.value >= self.target
        return self.value <= self.target


@dataclass
class Results:
    """Every figure of one run, in order, plus facts about the run."""

    figures: list[Figure] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    bad_checks: list[str] = field(default_factory=list)

    def add(self, area: str, name: str, value: float, unit: str, **kw: Any) -> Figure:
        """Record a figure and return it."""
        figure = Figure(area, name, float(value), unit, **kw)
        self.figures.append(figure)
        return figure

    def check(self, name: str, ok: bool, *, yes: str = "OK", no: str = "FAILED") -> bool:
        """Record a correctness check, shown as `yes` or `no` (e.g. MATCH/MISMATCH)."""
        self.checks[name] = yes if ok else no
        self.bad_checks += [] if ok else [name]
        return ok

    @property
    def failed(self) -> list[Figure]:
        """Figures that missed their target."""
        return [f for f in self.figures if f.passed is False]


def rate(count: int, seconds: float) -> float:
    """Items per second (0 when nothing was timed)."""
    return count / seconds if seconds > 0 else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of the values; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _number(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    if unit == "x":
        return f"{value:,.3f}"
    if unit == "ms" or abs(value) < 100:
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def _target(figure: Figure) -> str:
    if figure.target is None:
        return ""
    return f"{figure.compare} {_number(figure.target, figure.unit)}"


def _verdict(figure: Figure) -> str:
    return {None: "", True: "PASS", False: "FAIL"}[figure.passed]


def table(results: Results) -> str:
    """The figures as a readable table, grouped by area, then the checks."""
    lines, area = [], ""
    header = f"{'figure':<58} {'value':>12} {'unit':<9} {'target':>12} {'':<4}"
    for figure in results.figures:
        if figure.area != area:
            area = figure.area
            lines += ["", f"== {area} ==", header, "-" * len(header)]
        lines.append(
            f"{figure.name:<58} {_number(figure.value, figure.unit):>12} {figure.unit:<9} "
            f"{_target(figure):>12} {_verdict(figure):<4}"
        )
        if figure.note:
            lines.append(f"    ({figure.note})")
    if results.checks:
        lines += ["", "== checks =="]
        lines += [f"{name:<71} {word}" for name, word in results.checks.items()]
    return "\n".join(lines)


def write_json(results: Results, path: Path) -> None:
    """Save the figures, checks and run facts as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "meta": results.meta,
        "figures": [{**asdict(f), "passed": f.passed} for f in results.figures],
        "checks": results.checks,
        "failed_checks": results.bad_checks,
    }
    path.write_text(json.dumps(body, indent=2, default=str) + "\n")
