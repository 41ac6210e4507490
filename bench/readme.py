"""The README's figures, written by the bench itself (never copied by hand).

`python -m bench --readme README.md` replaces the block between the two markers below with a
table of this run's figures that have a target, plus the run's facts; `python -m bench.readme
FILE [JSON]` does the same from a saved run (`bench/results/latest.json` by default).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.figures import Figure, Results, _number, _target

BEGIN = "<!-- bench:begin (written by `python -m bench --readme README.md`; do not edit) -->"
END = "<!-- bench:end -->"
SHOWN = (
    "B3 replay",
    "B3 replay's peak memory",
    "B4 inclusion proofs, sequential",
    "B6 report",
    "B6 fact store memory",
    "F1 1 MB x",
    "F1 10 MB x",
    "F2 ",
    "F3 ",
)
"""Figures without a target that the README shows too."""


def render(results: Results) -> str:
    """Markdown: the run's facts, then one row per figure with a target (and the checks)."""
    meta = results.meta
    code = meta.get("code", {})
    changed = " (with uncommitted changes)" if code.get("changed") else ""
    lines = [
        f"Run of {meta.get('started', '?')[:16]} UTC on commit `{code.get('head', '?')}`{changed}, "
        f"N={meta.get('events', 0):,} events, {meta.get('wall_seconds', '?')} s; load average "
        f"{meta.get('load_average_at_start')} at start, {meta.get('load_average_at_end')} at end "
        "(other work on the machine moves figures).",
        "",
        "| figure | value | target | |",
        "|---|---|---|---|",
    ]
    for figure in results.figures:
        if figure.target is not None or figure.name.startswith(SHOWN):
            lines.append(_row(figure))
    for name, word in results.checks.items():
        lines.append(f"| {name} | {word} | | |")
    return "\n".join(lines)


def _row(figure: Figure) -> str:
    verdict = {None: "", True: "met", False: "**missed**"}[figure.passed]
    value = f"{_number(figure.value, figure.unit)} {figure.unit}"
    return f"| {figure.name} | {value} | {_target(figure)} | {verdict} |"


def update(path: Path, results: Results) -> None:
    """Replace the marked block of `path` (which must have both markers) with this run."""
    text = path.read_text()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{path} has no bench block ({BEGIN!r} ... {END!r})")
    path.write_text(text[: start + len(BEGIN)] + "\n" + render(results) + "\n" + text[end:])


def load(path: Path) -> Results:
    """A saved run (`write_json`'s file) as Results."""
    body: dict[str, Any] = json.loads(path.read_text())
    figures = [Figure(**{k: v for k, v in f.items() if k != "passed"}) for f in body["figures"]]
    return Results(figures=figures, checks=body["checks"], meta=body["meta"])


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bench.readme README.md [results.json]`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not 1 <= len(args) <= 2:
        raise SystemExit("usage: python -m bench.readme FILE [RESULTS_JSON]")
    saved = Path(args[1]) if len(args) == 2 else Path("bench/results/latest.json")
    update(Path(args[0]), load(saved))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
