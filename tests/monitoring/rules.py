"""Reading monitoring/alerts.yml and its promtool unit tests, for the monitoring tests."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
ALERTS = MONITORING / "alerts.yml"
RULE_TESTS = (MONITORING / "alerts_test.yml", MONITORING / "alerts_volume_test.yml")
DASHBOARD = MONITORING / "grafana" / "openai-audit-connector.json"

_RECORDED = re.compile(r"(?<![\w:])[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]*[a-zA-Z0-9_](?![\w:])")


def load_rules(path: Path = ALERTS) -> list[dict[str, Any]]:
    """Every rule (alerting and recording) of a rules file, with its group name under ``group``."""
    doc = yaml.safe_load(path.read_text())
    return [{**rule, "group": group["name"]} for group in doc["groups"] for rule in group["rules"]]


def alerts(path: Path = ALERTS) -> dict[str, dict[str, Any]]:
    """The alerting rules by name."""
    return {rule["alert"]: rule for rule in load_rules(path) if "alert" in rule}


def recorded_names(expr: str) -> set[str]:
    """Names of recording rules (``level:metric:ops``) an expression uses."""
    return set(_RECORDED.findall(re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)))


def rule_test_cases(paths: tuple[Path, ...] = RULE_TESTS) -> dict[str, dict[str, int]]:
    """For each alert name, how many firing and non-firing cases the promtool tests hold."""
    cases: dict[str, dict[str, int]] = defaultdict(lambda: {"firing": 0, "silent": 0})
    for path in paths:
        for group in yaml.safe_load(path.read_text())["tests"]:
            for case in group.get("alert_rule_test", []):
                cases[case["alertname"]]["firing" if case.get("exp_alerts") else "silent"] += 1
    return dict(cases)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    return {github_anchor(m) for m in re.findall(r"^#{1,6} (.+)$", markdown, flags=re.MULTILINE)}


GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$job": ".*", "$instance": ".*"}


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL with the Grafana variables filled in) for every query of the dashboard."""
    out = []
    for panel in dashboard()["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            out.append((panel["title"], expr))
    return out
