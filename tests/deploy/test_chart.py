"""The Helm chart helm/connector: lint, render, validate against Kubernetes schemas, and what it promises.

Every value set below (and every example values file) is linted with ``helm lint --strict``, rendered
with ``helm template`` for several Kubernetes versions and validated with kubernetes-validate in strict
mode (the ServiceMonitor and PrometheusRule against the Prometheus Operator's CRD schemas).
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from connector.config import load_settings
from tests.deploy.conftest import ROOT, Tools

CHART = ROOT / "helm" / "connector"
EXAMPLES = CHART / "examples"
KUBE_VERSIONS = ("1.29.0", "1.31.0", "1.33.0", "1.35.0")
DATA_DIR = "/var/lib/connector"

# Distinctive secret values: they must show up nowhere in the rendered manifests but (base64) in the Secret.
ADMIN_KEY = "sk-admin-TEST-9f8e7d6c5b4a39281706"
HEC_TOKEN = "8a1c2d3e-TEST-4f5a-hec-token-6b7c8d9e0f1a"
SASL_PASSWORD = "TEST-sasl-password-Zq7Xw2"
SSL_PASSWORD = "TEST-ssl-key-password-Kp4Lm9"
TEST_SECRETS = (ADMIN_KEY, HEC_TOKEN, SASL_PASSWORD, SSL_PASSWORD)

SECRET_ENV = {
    "CONNECTOR_OPENAI__ADMIN_KEY",
    "CONNECTOR_SINK__TOKEN",
    "CONNECTOR_SINK__SASL_PASSWORD",
    "CONNECTOR_SINK__SSL_PASSWORD",
}


def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    return loaded


def _chart_secret(values: dict[str, Any], **secrets: str) -> dict[str, Any]:
    """The same values with a chart-made Secret holding the test secrets instead of existingSecret."""
    out = copy.deepcopy(values)
    out["secret"] = {"existingSecret": "", **secrets}
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        out[key] = (
            _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


VALUE_SETS: dict[str, dict[str, Any]] = {
    # file sink + SQLite checkpoint: the chart's defaults
    "default": {"secret": {"adminKey": ADMIN_KEY}},
    # not even a key: renders (helm lint passes); NOTES.txt warns and the pod waits for the Secret's key
    "chart-defaults": {},
    "kafka": _chart_secret(
        _example("kafka.yaml"), adminKey=ADMIN_KEY, saslPassword=SASL_PASSWORD, sslPassword=SSL_PASSWORD
    ),
    "hec": _chart_secret(_example("splunk-hec.yaml"), adminKey=ADMIN_KEY, hecToken=HEC_TOKEN),
    "existing-secret": {
        "config": {"sink": {"type": "splunk_hec", "url": "https://splunk.example.com:8088"}},
        "secret": {"existingSecret": "audit-secrets", "keys": {"adminKey": "openai", "hecToken": "splunk"}},
    },
    "kafka-checkpoint": _chart_secret(
        _example("kafka-exactly-once.yaml"), adminKey=ADMIN_KEY, saslPassword=SASL_PASSWORD
    ),
    "everything-on": {
        "secret": {"adminKey": ADMIN_KEY},
        "serviceMonitor": {"enabled": True, "labels": {"release": "prom"}},
        "prometheusRule": {"enabled": True, "labels": {"release": "prom"}},
        "persistence": {"storageClassName": "fast-ssd", "size": "5Gi", "annotations": {"a": "b"}},
        "image": {"digest": "sha256:" + "ab" * 32},
        "imagePullSecrets": [{"name": "regcred"}],
        "extraEnv": [{"name": "CONNECTOR_LOG__LEVEL", "value": "DEBUG"}],
        "podAnnotations": {"team": "security"},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [
            {"key": "dedicated", "operator": "Equal", "value": "security", "effect": "NoSchedule"}
        ],
        "priorityClassName": "high",
        "serviceAccount": {"annotations": {"iam.example.com/role": "audit"}},
    },
    "existing-claim": {"secret": {"adminKey": ADMIN_KEY}, "persistence": {"existingClaim": "audit-data"}},
    "kafka-checkpoint-dead-letter-topic": _chart_secret(
        _merge(_example("kafka-exactly-once.yaml"), {"config": {"dead_letter": {"type": "kafka"}}}),
        adminKey=ADMIN_KEY,
        saslPassword=SASL_PASSWORD,
    ),
    "paused": {"secret": {"adminKey": ADMIN_KEY}, "replicas": 0, "networkPolicy": {"enabled": False}},
}
EXAMPLE_SETS = {f"example-{p.stem}": _example(p.name) for p in sorted(EXAMPLES.glob("*.yaml"))}
ALL_SETS = {**VALUE_SETS, **EXAMPLE_SETS}


def _values_file(tmp_path: Path, values: dict[str, Any]) -> Path:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return path


_RENDERED: dict[tuple[str, str], list[dict[str, Any]]] = {}


def _render_cached(tools: Tools, values_json: str, kube_version: str) -> list[dict[str, Any]]:
    key = (values_json, kube_version)
    if key not in _RENDERED:
        with tempfile.TemporaryDirectory() as tmp:
            values_path = Path(tmp) / "values.yaml"
            values_path.write_text(yaml.safe_dump(json.loads(values_json)))
            result = tools.helm_run(
                "template", "audit", str(CHART), "--namespace", "openai-audit",
                "--kube-version", kube_version, "-f", str(values_path),
            )  # fmt: skip
        _RENDERED[key] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return _RENDERED[key]


def render(tools: Tools, name: str, kube_version: str = KUBE_VERSIONS[-1]) -> list[dict[str, Any]]:
    return copy.deepcopy(_render_cached(tools, json.dumps(ALL_SETS[name]), kube_version))


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def workload(docs: list[dict[str, Any]]) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] in ("StatefulSet", "Deployment")]
    assert len(found) == 1, [d["kind"] for d in found]
    return found[0]


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    containers = workload(docs)["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: dict[str, Any] = containers[0]
    return result


def env_of(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container(docs)["env"]}


# ---- lint, render, validate --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ALL_SETS))
def test_helm_lint_strict(tools: Tools, name: str, tmp_path: Path) -> None:
    result = tools.helm_run("lint", "--strict", str(CHART), "-f", str(_values_file(tmp_path, ALL_SETS[name])))
    assert "0 chart(s) failed" in result.stdout


def test_helm_lint_strict_with_the_chart_defaults(tools: Tools) -> None:
    tools.helm_run("lint", "--strict", str(CHART))


@pytest.mark.parametrize("name", list(ALL_SETS))
def test_renders_and_validates_strictly_on_several_kubernetes_versions(tools: Tools, name: str) -> None:
    for version in KUBE_VERSIONS:
        for doc in render(tools, name, version):
            if doc["apiVersion"].startswith("monitoring.coreos.com/"):
                continue  # validated against the operator's CRDs below
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{name}: {doc['kind']} {doc['metadata']['name']} on Kubernetes {version}: {exc}")


@functools.cache
def _crd_validator(crds: Path, kind: str) -> jsonschema.Draft7Validator:
    for path in crds.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        if crd["spec"]["names"]["kind"] == kind:
            version = next(v for v in crd["spec"]["versions"] if v["storage"])
            return jsonschema.Draft7Validator(_strict(version["schema"]["openAPIV3Schema"]))
    raise LookupError(kind)


def _strict(schema: Any) -> Any:
    """Reject unknown fields, as kubernetes-validate's strict mode does for built-in kinds."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def test_service_monitor_and_prometheus_rule_match_the_operator_crds(tools: Tools) -> None:
    assert tools.crds is not None, "scripts/install-deploy-tools found no Go toolchain for the CRDs"
    docs = render(tools, "everything-on")
    custom = [d for d in docs if d["apiVersion"] == "monitoring.coreos.com/v1"]
    assert sorted(d["kind"] for d in custom) == ["PrometheusRule", "ServiceMonitor"]
    for doc in custom:
        errors = [e.message for e in _crd_validator(tools.crds, doc["kind"]).iter_errors(doc)]
        assert not errors, f"{doc['kind']}: {errors}"


# ---- what the chart promises ------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ALL_SETS))
def test_exactly_one_poller_and_the_right_workload(tools: Tools, name: str) -> None:
    docs = render(tools, name)
    work = workload(docs)
    expected = 0 if name == "paused" else 1
    assert work["spec"]["replicas"] == expected
    backend = ((ALL_SETS[name].get("config") or {}).get("checkpoint") or {}).get("backend", "sqlite")
    mounts = {m["name"]: m["mountPath"] for m in container(docs)["volumeMounts"]}
    assert mounts["data"] == DATA_DIR
    volumes = {v["name"]: v for v in work["spec"]["template"]["spec"]["volumes"]}
    claim = (ALL_SETS[name].get("persistence") or {}).get("existingClaim")
    if backend == "sqlite":
        assert work["kind"] == "StatefulSet"
        assert work["spec"]["podManagementPolicy"] == "OrderedReady"
        if claim:
            assert volumes["data"]["persistentVolumeClaim"]["claimName"] == claim
            assert "volumeClaimTemplates" not in work["spec"]
        else:
            assert "data" not in volumes
            (template,) = work["spec"]["volumeClaimTemplates"]
            assert template["metadata"]["name"] == "data"
            assert template["spec"]["accessModes"] == ["ReadWriteOnce"]
            assert work["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Retain"
        assert "emptyDir" not in volumes.get("data", {}), (
            "an SQLite checkpoint on an emptyDir is lost on restart"
        )
    else:
        assert work["kind"] == "Deployment"
        assert work["spec"]["strategy"] == {"type": "Recreate"}
        assert "volumeClaimTemplates" not in work["spec"]
        assert "emptyDir" in volumes["data"] or claim
    assert not by_kind(docs, "PersistentVolumeClaim")
    assert not by_kind(docs, "HorizontalPodAutoscaler")


@pytest.mark.parametrize("name", list(ALL_SETS))
def test_no_secret_in_any_configmap_and_no_plaintext_secret_anywhere(tools: Tools, name: str) -> None:
    docs = render(tools, name)
    for doc in by_kind(docs, "ConfigMap"):
        text = yaml.safe_dump(doc)
        for secret in TEST_SECRETS:
            assert secret not in text, f"a secret is in ConfigMap {doc['metadata']['name']}"
            assert base64.b64encode(secret.encode()).decode() not in text
        settings = yaml.safe_load(doc["data"]["settings.yaml"])
        assert "admin_key" not in (settings.get("openai") or {})
        assert not {"token", "sasl_password", "ssl_password"} & set(settings.get("sink") or {})
    rendered = "\n".join(yaml.safe_dump(d) for d in docs if d["kind"] != "Secret")
    for secret in TEST_SECRETS:
        assert secret not in rendered
    for doc in by_kind(docs, "Secret"):
        assert "stringData" not in doc
        for value in doc.get("data", {}).values():
            assert base64.b64decode(value).decode() in TEST_SECRETS


@pytest.mark.parametrize("name", list(ALL_SETS))
def test_secrets_reach_the_container_only_from_the_secret(tools: Tools, name: str) -> None:
    docs = render(tools, name)
    values = ALL_SETS[name]
    env = env_of(docs)
    existing = (values.get("secret") or {}).get("existingSecret")
    secret_name = existing or "audit-connector"
    assert bool(by_kind(docs, "Secret")) != bool(existing), "a Secret is made exactly when none is given"
    for var in SECRET_ENV & set(env):
        ref = env[var]["valueFrom"]["secretKeyRef"]
        assert "value" not in env[var]
        assert ref["name"] == secret_name
    assert "CONNECTOR_OPENAI__ADMIN_KEY" in env
    sink = ((values.get("config") or {}).get("sink") or {}).get("type", "file")
    assert ("CONNECTOR_SINK__TOKEN" in env) == (sink == "splunk_hec")
    if existing:
        keys = {**{"adminKey": "admin-key"}, **(values["secret"].get("keys") or {})}
        assert env["CONNECTOR_OPENAI__ADMIN_KEY"]["valueFrom"]["secretKeyRef"]["key"] == keys["adminKey"]
    else:
        (secret,) = by_kind(docs, "Secret")
        data = secret.get("data", {})
        for var, entry in env.items():
            if var in SECRET_ENV and not entry["valueFrom"]["secretKeyRef"].get("optional"):
                present = entry["valueFrom"]["secretKeyRef"]["key"] in data
                assert present != (name == "chart-defaults"), f"{var} refers to a missing key"
    for doc in docs:
        assert "envFrom" not in json.dumps(doc), "no bulk import of a ConfigMap or Secret into the env"


@pytest.mark.parametrize("name", list(ALL_SETS))
def test_restricted_security_context(tools: Tools, name: str) -> None:
    docs = render(tools, name)
    pod = workload(docs)["spec"]["template"]["spec"]
    ctr = container(docs)["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["fsGroup"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert ctr["runAsNonRoot"] is True
    assert ctr["runAsUser"] == 10001
    assert ctr["readOnlyRootFilesystem"] is True
    assert ctr["allowPrivilegeEscalation"] is False
    assert ctr["capabilities"] == {"drop": ["ALL"]}
    assert ctr["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    # the only writable mounts: the data volume and /tmp
    writable = {m["mountPath"] for m in container(docs)["volumeMounts"] if not m.get("readOnly")}
    assert writable == {DATA_DIR, "/tmp"}


@pytest.mark.parametrize("name", list(ALL_SETS))
def test_probes_resources_and_grace_period(tools: Tools, name: str) -> None:
    docs = render(tools, name)
    ctr = container(docs)
    pod = workload(docs)["spec"]["template"]["spec"]
    ports = {p["name"]: p["containerPort"] for p in ctr["ports"]}
    assert ports == {"metrics": 9464}
    assert ctr["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert ctr["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert ctr["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert ctr["resources"]["requests"] and ctr["resources"]["limits"]["memory"]
    assert pod["terminationGracePeriodSeconds"] >= 45, "the drain waits up to ~20 s for HEC acks"
    env = env_of(docs)
    assert env["CONNECTOR_METRICS__HOST"]["value"] == "0.0.0.0"
    assert env["CONNECTOR_METRICS__PORT"]["value"] == "9464"
    (service,) = by_kind(docs, "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    assert service["spec"]["publishNotReadyAddresses"] is True


@pytest.mark.parametrize("name", list(ALL_SETS))
def test_settings_file_loads_in_the_connector_with_the_chart_env(
    tools: Tools, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ConfigMap is a valid settings file, and the pod's env puts the state on the volume."""
    docs = render(tools, name)
    (configmap,) = by_kind(docs, "ConfigMap")
    ctr = container(docs)
    assert ctr["args"] == ["--config", "/etc/connector/settings.yaml", "run"]
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(configmap["data"]["settings.yaml"])
    for var in list(os.environ):
        if var.startswith("CONNECTOR_"):
            monkeypatch.delenv(var)
    for var, entry in env_of(docs).items():
        if "value" in entry and var.startswith("CONNECTOR_"):
            monkeypatch.setenv(var, entry["value"])
        elif var in SECRET_ENV:
            monkeypatch.setenv(var, "from-the-secret")
    settings = load_settings(settings_file)
    assert str(settings.checkpoint.path).startswith(DATA_DIR + "/")
    assert str(settings.dead_letter.path).startswith(DATA_DIR + "/")
    assert str(settings.sink.path).startswith(DATA_DIR + "/")
    assert settings.metrics.enabled
    assert settings.metrics.host == "0.0.0.0"


def test_network_policy_allows_dns_the_api_the_sink_and_scrapes_from_monitoring(tools: Tools) -> None:
    def policy(name: str) -> dict[str, Any]:
        (found,) = by_kind(render(tools, name), "NetworkPolicy")
        return found

    def ports(rule: dict[str, Any]) -> set[tuple[int | str, str]]:
        return {(p["port"], p["protocol"]) for p in rule["ports"]}

    default = policy("default")
    assert default["spec"]["policyTypes"] == ["Ingress", "Egress"]
    (ingress,) = default["spec"]["ingress"]
    assert ingress["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    assert ingress["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "monitoring"
    }
    egress = default["spec"]["egress"]
    assert [ports(r) for r in egress] == [
        {(53, "UDP"), (53, "TCP")},
        {(443, "TCP")},
    ]  # file sink: no sink rule
    kafka = policy("kafka")["spec"]["egress"]
    assert ports(kafka[2]) == {(9093, "TCP")}
    assert kafka[2]["to"] == [{"ipBlock": {"cidr": "10.20.0.0/16"}}]
    assert ports(policy("hec")["spec"]["egress"][2]) == {(8088, "TCP")}
    assert ports(policy("kafka-checkpoint")["spec"]["egress"][2]) == {(9093, "TCP")}
    assert not by_kind(render(tools, "paused"), "NetworkPolicy")


def test_prometheus_rule_serves_the_alerts_file(tools: Tools) -> None:
    (rule,) = by_kind(render(tools, "everything-on"), "PrometheusRule")
    assert rule["spec"]["groups"] == yaml.safe_load((CHART / "files" / "alerts.yml").read_text())["groups"]
    assert rule["metadata"]["labels"]["release"] == "prom"
    (monitor,) = by_kind(render(tools, "everything-on"), "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert not by_kind(render(tools, "default"), "PrometheusRule")
    assert not by_kind(render(tools, "default"), "ServiceMonitor")


def test_chart_alerts_are_a_copy_of_monitoring_alerts() -> None:
    source = ROOT / "monitoring" / "alerts.yml"
    assert (CHART / "files" / "alerts.yml").read_bytes() == source.read_bytes(), (
        "helm/connector/files/alerts.yml differs from monitoring/alerts.yml: run scripts/sync-chart-alerts"
    )


# ---- the schema says no -------------------------------------------------------------------------------

REJECTED: dict[str, dict[str, Any]] = {
    "two-replicas": {"replicas": 2},
    "admin-key-in-config": {"config": {"openai": {"admin_key": ADMIN_KEY}}},
    "hec-token-in-config": {"config": {"sink": {"type": "splunk_hec", "token": HEC_TOKEN}}},
    "sasl-password-in-config": {"config": {"sink": {"type": "kafka", "sasl_password": SASL_PASSWORD}}},
    "secret-in-extra-env": {"extraEnv": [{"name": "CONNECTOR_OPENAI__ADMIN_KEY", "value": ADMIN_KEY}]},
    "checkpoint-path-in-config": {"config": {"checkpoint": {"path": "/tmp/checkpoint.db"}}},
    "metrics-port-in-config": {"config": {"metrics": {"port": 9000}}},
    "dead-letter-path-in-config": {"config": {"dead_letter": {"path": "/tmp/dl.ndjson"}}},
    "unknown-output-format": {"config": {"output": {"format": "cef"}}},
    "kafka-checkpoint-without-kafka-sink": {"config": {"checkpoint": {"backend": "kafka"}}},
    "unknown-sink": {"config": {"sink": {"type": "s3"}}},
    "writable-root": {"securityContext": {"readOnlyRootFilesystem": False}},
    "root-user": {"podSecurityContext": {"runAsNonRoot": False}},
    "short-grace-period": {"terminationGracePeriodSeconds": 5},
    "unknown-value": {"replicaCount": 1},
}


@pytest.mark.parametrize("name", list(REJECTED))
def test_schema_rejects(tools: Tools, name: str, tmp_path: Path) -> None:
    values = _values_file(tmp_path, {"secret": {"adminKey": ADMIN_KEY}, **REJECTED[name]})
    lint = tools.helm_run("lint", "--strict", str(CHART), "-f", str(values), check=False)
    assert lint.returncode != 0, lint.stdout
    template = tools.helm_run("template", "audit", str(CHART), "-f", str(values), check=False)
    assert template.returncode != 0
    assert "schema" in template.stderr, template.stderr


def test_a_values_file_with_two_replicas_is_rejected_by_the_schema(tools: Tools, tmp_path: Path) -> None:
    values = tmp_path / "two.yaml"
    values.write_text("replicas: 2\n")
    result = tools.helm_run("template", "audit", str(CHART), "-f", str(values), check=False)
    assert result.returncode != 0
    assert "/replicas" in result.stderr
    assert "maximum" in result.stderr


def test_values_yaml_is_valid_against_its_schema() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(yaml.safe_load((CHART / "values.yaml").read_text()))
    for name, values in EXAMPLE_SETS.items():
        merged = _merge(yaml.safe_load((CHART / "values.yaml").read_text()), values)
        errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(merged)]
        assert not errors, f"{name}: {errors}"


# ---- notes and docs -----------------------------------------------------------------------------------


def _notes(tools: Tools, tmp_path: Path, values: dict[str, Any]) -> str:
    """NOTES.txt as `helm install` prints it; `helm template` skips it and an install dry run needs
    a cluster, so a copy of the chart renders it into a ConfigMap."""
    chart = tmp_path / "chart"
    if not chart.exists():
        shutil.copytree(CHART, chart)
        notes = (chart / "templates" / "NOTES.txt").read_text()
        (chart / "templates" / "NOTES.txt").unlink()
        (chart / "templates" / "_notes_for_test.tpl").write_text(
            '{{- define "test.notes" -}}\n' + notes + "\n{{- end }}\n"
        )
        (chart / "templates" / "notes-for-test.yaml").write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n"
            'data:\n  notes: {{ include "test.notes" . | toJson }}\n'
        )
    result = tools.helm_run(
        "template", "audit", str(chart), "--namespace", "openai-audit",
        "--show-only", "templates/notes-for-test.yaml", "-f", str(_values_file(tmp_path, values)),
    )  # fmt: skip
    text: str = yaml.safe_load(result.stdout)["data"]["notes"]
    return text


def test_notes_say_how_to_check_it_and_warn_about_a_missing_key(tools: Tools, tmp_path: Path) -> None:
    notes = _notes(tools, tmp_path, VALUE_SETS["default"])
    assert "statefulset/audit-connector" in notes
    assert "WARNING" not in notes
    assert "WARNING: no Admin key" in _notes(tools, tmp_path, {})
    kafka_notes = _notes(tools, tmp_path, VALUE_SETS["kafka-checkpoint"])
    assert "deployment/audit-connector" in kafka_notes
    assert "emptyDir" in kafka_notes
    assert "emptyDir" not in _notes(tools, tmp_path, VALUE_SETS["kafka-checkpoint-dead-letter-topic"])


def test_chart_readme_is_generated_from_the_current_values() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "chart_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
