"""Generated reference pages must match the code that generates them."""

from __future__ import annotations

from pathlib import Path

from connector.config_docs import render_configuration_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_configuration_reference_is_current() -> None:
    current = (DOCS / "configuration.md").read_text()
    assert current == render_configuration_markdown(), (
        "docs/configuration.md is stale: run `python -m connector.config_docs > docs/configuration.md`"
    )
