"""docs/mapping.md is generated from the mapping table and must not drift from it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from connector.normalize.docs import REGENERATE, render_mapping_markdown
from connector.normalize.table import MAPPING

ROOT = Path(__file__).resolve().parents[2]
MAPPING_MD = ROOT / "docs" / "mapping.md"


def test_docs_mapping_md_is_up_to_date() -> None:
    expected = render_mapping_markdown()
    actual = MAPPING_MD.read_text(encoding="utf-8") if MAPPING_MD.exists() else ""
    assert actual == expected, f"docs/mapping.md is stale; regenerate it with: {REGENERATE}"


def test_rendered_docs_list_every_type_with_its_type_uid() -> None:
    text = render_mapping_markdown()
    for event_type, row in MAPPING.items():
        line = next(line for line in text.splitlines() if line.startswith(f"| `{event_type}`"))
        assert f"({row.class_uid})" in line
        assert f"→ {row.class_uid * 100 + row.activity_id}" in line


def test_module_runs_as_a_script() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "connector.normalize.docs"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == render_mapping_markdown()
