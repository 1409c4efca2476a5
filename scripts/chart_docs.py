#!/usr/bin/env python3
"""Write helm/connector/README.md from the chart's values.yaml and values.schema.json.

Descriptions come from the ``# --`` comments above keys in values.yaml (the helm-docs convention; the
following ``#`` lines continue it), types from values.schema.json, defaults from values.yaml. The prose
around the table is helm/connector/README.template.md (``@@VALUES@@`` marks the table).

    .venv/bin/python scripts/chart_docs.py           # rewrite the README
    .venv/bin/python scripts/chart_docs.py --check   # exit 1 when it is out of date (tests/deploy)

Every value must be described, itself or through all of its children; the script fails otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parents[1] / "helm" / "connector"
KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.-]+):(?:\s|$)")


def described_keys(values_text: str) -> dict[tuple[str, ...], str]:
    """Path of each key with a ``# --`` comment → its description."""
    out: dict[tuple[str, ...], str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] | None = None
    for line in values_text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending = [stripped[4:].strip()]
            continue
        if stripped.startswith("#"):
            if pending is not None:
                pending.append(stripped[1:].strip())
            continue
        match = KEY.match(line)
        if not match:
            if stripped and not stripped.startswith("-"):
                pending = None
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match["key"]))
        if pending is not None:
            out[tuple(key for _, key in stack)] = " ".join(pending)
            pending = None
    return out


def schema_at(schema: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    node = schema
    for key in path:
        props = node.get("properties", {})
        if key in props:
            node = props[key]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return {}
    return node


def type_of(schema: dict[str, Any], value: Any) -> str:
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind:
        return str(kind)
    return {bool: "boolean", int: "integer", str: "string", list: "array", dict: "object"}.get(
        type(value), "any"
    )


def value_at(values: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        values = values[key]
    return values


def undescribed(values: Any, path: tuple[str, ...], described: set[tuple[str, ...]]) -> list[str]:
    """Values that have no description of their own nor through all their children."""
    if path in described:
        return []
    if isinstance(values, dict) and values:
        missing: list[str] = []
        for key, child in values.items():
            missing += undescribed(child, (*path, key), described)
        return missing
    return [".".join(path)]


def render() -> str:
    values_text = (CHART / "values.yaml").read_text()
    values = yaml.safe_load(values_text)
    schema = json.loads((CHART / "values.schema.json").read_text())
    described = described_keys(values_text)
    missing = undescribed(values, (), set(described))
    if missing:
        raise SystemExit(f"values without a '# --' description: {', '.join(missing)}")
    rows = ["| Key | Type | Default | Description |", "|---|---|---|---|"]
    for path, text in described.items():
        default = value_at(values, path)
        shown = json.dumps(default, ensure_ascii=False)
        cell = (
            f"`{shown}`"
            if len(shown) <= 60
            else f"<pre>{_html(yaml.safe_dump(default, sort_keys=False))}</pre>"
        )
        rows.append(f"| `{'.'.join(path)}` | {type_of(schema_at(schema, path), default)} | {cell} | {text} |")
    template = (CHART / "README.template.md").read_text()
    return template.replace("@@VALUES@@", "\n".join(rows))


def _html(text: str) -> str:
    return (
        text.strip().replace("&", "&amp;").replace("<", "&lt;").replace("|", "&#124;").replace("\n", "<br>")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when README.md is out of date")
    args = parser.parse_args()
    readme = CHART / "README.md"
    text = render()
    if args.check:
        if not readme.exists() or readme.read_text() != text:
            print(f"{readme} is out of date: run .venv/bin/python scripts/chart_docs.py", file=sys.stderr)
            return 1
        return 0
    readme.write_text(text)
    print(f"wrote {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
