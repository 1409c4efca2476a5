"""The alert rules: promtool accepts them, their unit tests pass, and every alert is tested both ways."""

from __future__ import annotations

import subprocess

import pytest

from tests.monitoring.catalogue import OPERATIONS_MD, exposed_names, promql_metric_names
from tests.monitoring.rules import (
    ALERTS,
    RULE_TESTS,
    alerts,
    anchors,
    load_rules,
    recorded_names,
    rule_test_cases,
)

SEVERITIES = {"critical", "warning", "info"}


def test_promtool_check_rules_accepts_the_rules_file(promtool: str) -> None:
    result = subprocess.run(
        [promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(load_rules())} rules found" in result.stdout


def test_promtool_unit_tests_of_the_rules_pass(promtool: str) -> None:
    result = subprocess.run(
        [promtool, "test", "rules", *map(str, RULE_TESTS)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_TESTS), result.stdout


@pytest.mark.parametrize("name", sorted(alerts()))
def test_every_alert_has_a_firing_and_a_non_firing_case(name: str) -> None:
    cases = rule_test_cases().get(name, {"firing": 0, "silent": 0})
    assert cases["firing"] >= 1, f"{name}: no promtool case where it fires"
    assert cases["silent"] >= 1, f"{name}: no promtool case where it stays silent (exp_alerts: [])"


def test_the_rule_tests_only_name_alerts_that_exist() -> None:
    assert set(rule_test_cases()) <= set(alerts())


@pytest.mark.parametrize("name", sorted(alerts()))
def test_every_alert_has_a_severity_a_summary_a_description_and_a_runbook(name: str) -> None:
    rule = alerts()[name]
    assert rule["labels"]["severity"] in SEVERITIES
    annotations = rule["annotations"]
    assert annotations["summary"].strip() and annotations["description"].strip()
    url = annotations["runbook_url"]
    assert url == f"docs/operations.md#{name.lower()}", url
    assert name.lower() in anchors(OPERATIONS_MD.read_text()), f"docs/operations.md has no section {name}"


def test_rules_use_only_metrics_the_connector_exposes_and_recording_rules_they_define() -> None:
    exposed = exposed_names()
    rules = load_rules()
    recorded = {rule["record"] for rule in rules if "record" in rule}
    for rule in rules:
        expr = rule["expr"]
        unknown = promql_metric_names(expr) - exposed
        assert not unknown, f"{rule.get('alert') or rule.get('record')}: no such metric {sorted(unknown)}"
        assert recorded_names(expr) <= recorded, f"{rule.get('alert')}: undefined recording rule"
    assert all(promql_metric_names(rule["expr"]) or recorded_names(rule["expr"]) for rule in rules)
