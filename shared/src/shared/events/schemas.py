"""The committed JSON Schemas of every wire type, and the check that guards them.

`python -m shared.events.schemas --write` rewrites `shared/schemas/` after a reviewed change; it
refuses a change that is not additive (a removed or retyped property, a new required field):
that needs a new `.vN` type instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shared.events.envelope import CloudEvent, EventData
from shared.events.registry import ALL_TYPES

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"


def schema_of(event_type: type[EventData]) -> dict[str, Any]:
    """The JSON Schema of the whole CloudEvent carrying this payload type."""
    schema = CloudEvent[event_type].model_json_schema()  # type: ignore[valid-type]
    schema["title"] = event_type.TYPE
    schema["$id"] = f"urn:kits:event:{event_type.TYPE}"
    return schema


def current_schemas(types: Iterable[type[EventData]] = ALL_TYPES) -> dict[str, dict[str, Any]]:
    """Schemas generated from the models, by type."""
    return {t.TYPE: schema_of(t) for t in types}


def committed_schemas(directory: Path = SCHEMA_DIR) -> dict[str, dict[str, Any]]:
    """Schemas as committed, by type."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}


def differences(
    committed: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]
) -> list[str]:
    """Every type whose model and committed schema disagree (empty when all match)."""
    problems = [f"{t}: no committed schema" for t in current if t not in committed]
    problems += [f"{t}: committed schema has no model" for t in committed if t not in current]
    problems += [
        f"{t}: model and committed schema differ"
        for t in current
        if t in committed and committed[t] != current[t]
    ]
    return problems


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What in `new` is not an additive change of `old`: removed, retyped or newly required."""
    return _compare(_inline(old, old), _inline(new, new), path="#")


def _inline(node: Any, root: dict[str, Any]) -> Any:
    """Resolve every local `$ref`, so models compare by shape and not by class name."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
            return _inline(target, root)
        return {k: _inline(v, root) for k, v in node.items() if k not in ("$defs", "title")}
    if isinstance(node, list):
        return [_inline(v, root) for v in node]
    return node


def _compare(old: Any, new: Any, *, path: str) -> list[str]:
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return [] if old == new else [f"{path} changed"]
    if "properties" not in old:
        return [] if _kind(old) == _kind(new) else [f"{path} changed type"]
    problems: list[str] = []
    new_props = new.get("properties", {})
    for name, spec in old["properties"].items():
        if name not in new_props:
            problems.append(f"{path}.{name} removed")
        else:
            problems += _compare(spec, new_props[name], path=f"{path}.{name}")
    added = set(new.get("required", [])) - set(old.get("required", []))
    return problems + [f"{path}.{name} became required" for name in sorted(added)]


def _kind(spec: dict[str, Any]) -> Any:
    keys = ("type", "anyOf", "items", "enum", "const", "format", "prefixItems", "pattern")
    return {k: spec[k] for k in keys if k in spec}


def write(directory: Path = SCHEMA_DIR) -> list[str]:
    """Write the current schemas; refuse non-additive changes. Returns the problems (if any)."""
    committed, current = committed_schemas(directory), current_schemas()
    problems = [
        f"{t}: {p}"
        for t in current
        if t in committed
        for p in breaking_changes(committed[t], current[t])
    ]
    problems += [
        f"{t}: removed (publish a new version instead)" for t in committed if t not in current
    ]
    if problems:
        return problems
    directory.mkdir(parents=True, exist_ok=True)
    for event_type, schema in current.items():
        (directory / f"{event_type}.json").write_text(json.dumps(schema, indent=2) + "\n")
    return []


def main(argv: list[str] | None = None) -> int:
    """Check (default) or `--write` the committed schemas."""
    parser = argparse.ArgumentParser(prog="python -m shared.events.schemas")
    parser.add_argument("--write", action="store_true", help="rewrite after a reviewed change")
    args = parser.parse_args(argv)
    problems = write() if args.write else differences(committed_schemas(), current_schemas())
    for problem in problems:
        sys.stderr.write(problem + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
