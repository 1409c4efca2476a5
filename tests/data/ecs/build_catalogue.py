"""Rebuild ``ecs_flat_9.4.0.json``, the trimmed ECS field catalogue the offline ECS checker reads.

Source: the npm package ``@elastic/ecs@9.4.0`` (Apache-2.0), whose
``build/commonjs/ecs_flat.js`` exports ``EcsFlat``, the whole ``ecs_flat`` of ECS 9.4.0.
Needs ``npm`` and ``node`` on PATH and access to the npm registry::

    python tests/data/ecs/build_catalogue.py            # rewrite the JSON next to this file
    python tests/data/ecs/build_catalogue.py --check    # exit 1 when the committed file differs

Only what the checker needs is kept: every field's type, the ``normalize: array`` fields,
the allowed values of the fields that have them, and the expected ``event.type`` values
of each ``event.category``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ECS_VERSION = "9.4.0"
PACKAGE = f"@elastic/ecs@{ECS_VERSION}"
HERE = Path(__file__).resolve().parent
OUTPUT = HERE / f"ecs_flat_{ECS_VERSION}.json"
_DUMP = "process.stdout.write(JSON.stringify(require(process.argv[1]).EcsFlat))"  # node -e, argv[1] = module


def load_ecs_flat(workdir: Path) -> dict[str, Any]:
    """``npm pack`` the package into ``workdir`` and return its ``EcsFlat`` object."""
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=workdir, check=True, stdout=subprocess.DEVNULL)
    (tarball,) = workdir.glob("elastic-ecs-*.tgz")
    with tarfile.open(tarball) as archive:
        archive.extractall(workdir, filter="data")
    module = workdir / "package" / "build" / "commonjs" / "ecs_flat.js"
    dumped = subprocess.run(["node", "-e", _DUMP, str(module)], check=True, capture_output=True, text=True)
    flat: dict[str, Any] = json.loads(dumped.stdout)
    return flat


def trim(flat: dict[str, Any]) -> dict[str, Any]:
    """Keep the parts of ``ecs_flat`` the checker uses."""
    fields = {name: spec["type"] for name, spec in sorted(flat.items())}
    arrays = sorted(name for name, spec in flat.items() if "array" in (spec.get("normalize") or ()))
    allowed = {
        name: [value["name"] for value in spec["allowed_values"]]
        for name, spec in sorted(flat.items())
        if spec.get("allowed_values")
    }
    expected = {
        value["name"]: value.get("expected_event_types", [])
        for value in flat["event.category"]["allowed_values"]
    }
    return {
        "ecs_version": ECS_VERSION,
        "source": f"npm {PACKAGE}, build/commonjs/ecs_flat.js (EcsFlat); see README.md",
        "license": "Apache-2.0 (Copyright Elasticsearch B.V.)",
        "field_count": len(fields),
        "fields": fields,
        "array_fields": arrays,
        "allowed_values": allowed,
        "expected_event_types": expected,
    }


def render(catalogue: dict[str, Any]) -> str:
    """One field per line, so an ECS upgrade reads as a reviewable diff."""
    return json.dumps(catalogue, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file, write nothing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        text = render(trim(load_ecs_flat(Path(tmp))))
    if args.check:
        same = OUTPUT.exists() and OUTPUT.read_text("utf-8") == text
        print(f"{OUTPUT.name}: {'up to date' if same else 'DIFFERS from ' + PACKAGE}")
        return 0 if same else 1
    OUTPUT.write_text(text, "utf-8")
    print(f"wrote {OUTPUT} ({len(text.encode()):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
