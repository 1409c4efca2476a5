"""docs/operations.md: the metrics catalogue is current, and every alert has a row and a runbook."""

from __future__ import annotations

import re

from tests.monitoring.catalogue import (
    OPERATIONS_MD,
    documented_metric_names,
    exposed_names,
    families,
    update,
)
from tests.monitoring.rules import alerts, anchors


def test_the_metrics_catalogue_is_generated_from_metrics_py_and_current() -> None:
    text = OPERATIONS_MD.read_text()
    assert update(text) == text, "docs/operations.md is stale: run `python -m tests.monitoring.catalogue`"


def test_the_catalogue_lists_every_metric_family_and_only_exposed_names() -> None:
    names = documented_metric_names(OPERATIONS_MD.read_text())
    assert set(names) <= exposed_names()
    for family in families():
        assert set(family.exposed) <= set(names), family.name


def test_every_alert_has_a_row_in_the_alert_table_and_a_runbook_section() -> None:
    text = OPERATIONS_MD.read_text()
    sections = set(re.findall(r"^### (\w+)$", text, flags=re.MULTILINE))
    rows = set(re.findall(r"^\| \[`(\w+)`\]\(#\w+\) \|", text, flags=re.MULTILINE))
    assert sections >= set(alerts()), sorted(set(alerts()) - sections)
    assert rows == set(alerts()), sorted(rows ^ set(alerts()))


def test_every_internal_link_of_operations_md_points_at_a_heading() -> None:
    text = OPERATIONS_MD.read_text()
    targets = set(re.findall(r"\]\(#([\w-]+)\)", text))
    assert targets <= anchors(text), sorted(targets - anchors(text))


def test_the_alert_table_gives_each_alert_its_severity_and_for_duration() -> None:
    text = OPERATIONS_MD.read_text()
    for name, rule in alerts().items():
        row = re.search(rf"^\| \[`{name}`\]\(#\w+\) \| (\w+) \| .+ \| ([\w—]+) \|$", text, flags=re.MULTILINE)
        assert row, name
        assert row.group(1) == rule["labels"]["severity"], name
        assert row.group(2) == rule.get("for", "—"), name
