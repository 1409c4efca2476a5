"""Rewrite the golden files from the current normalizers: ``python tests/golden/regen.py``.

Review the result with ``git diff tests/golden`` before committing it: every change in
there is a change in what the connector emits. ``--check`` writes nothing and exits 1
when a file would change (or is missing, or stale).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.golden.cases import FORMATS, GOLDEN_DIR, golden_path, golden_types, outputs, render  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report differences, write nothing")
    args = parser.parse_args(argv)
    changed: list[Path] = []
    expected: set[Path] = set()
    total = 0
    for fmt in FORMATS:
        (GOLDEN_DIR / fmt).mkdir(exist_ok=True)
        for event_type in golden_types():
            path = golden_path(fmt, event_type)
            expected.add(path)
            text = render(outputs(fmt, event_type))
            total += len(text.encode())
            if not path.exists() or path.read_text("utf-8") != text:
                changed.append(path)
                if not args.check:
                    path.write_text(text, "utf-8")
    stale = sorted(p for fmt in FORMATS for p in (GOLDEN_DIR / fmt).glob("*.json") if p not in expected)
    for path in stale:
        if not args.check:
            path.unlink()
    verb = "differ" if args.check else "rewritten"
    for path in changed:
        print(f"{verb}: {path.relative_to(ROOT)}")
    for path in stale:
        print(f"{'stale' if args.check else 'removed'}: {path.relative_to(ROOT)}")
    print(f"{len(expected)} golden files, {total:,} bytes; {len(changed)} {verb}, {len(stale)} stale")
    return 1 if args.check and (changed or stale) else 0


if __name__ == "__main__":
    sys.exit(main())
