"""The Splunk add-on (splunk/TA-openai-audit): .conf syntax, tags, CIM fields, and CIM actions.

The add-on's EVAL expressions and event-type searches are run here by a small evaluator
for the SPL subset they use, on real normalizer output (OCSF) and on raw events, in the
order Splunk applies them at search time (KV_MODE=json, FIELDALIAS, EVAL in parallel,
event types, tags). The results are checked against the CIM columns of
connector/normalize/table.py for every event type, and against the CIM data-model
definitions in tests/data/splunk (from pytest-splunk-addon 7.0.5, Apache-2.0).
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import re
import tomllib
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from connector.config import SinkSettings
from connector.normalize.ocsf import OcsfNormalizer
from connector.normalize.ocsf_enums import VERB_ACTIVITIES
from connector.normalize.table import MAPPING, MappingRow
from tests.unit.normalize_samples import ACTOR_SHAPES, SESSION_IPV4, make_event

ROOT = Path(__file__).resolve().parents[2]
TA = ROOT / "splunk" / "TA-openai-audit"
DATA = ROOT / "tests" / "data" / "splunk"
OCSF, RAW = "ocsf:openai:audit", "openai:audit"
SOURCETYPES = (OCSF, RAW)
ORG_ID = "org-splunk-test"
API_KEY_SA = ACTOR_SHAPES["api_key_service_account"]
DATA_SETS = {"authentication": "Authentication", "account": "Change:Account_Management"}

# --- .conf files ------------------------------------------------------------------------------


def parse_conf(path: Path) -> dict[str, dict[str, str]]:
    """Parse a Splunk .conf file strictly: stanzas, ``key = value``, ``#`` comments only."""
    stanzas: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{path.name}:{number}"
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        assert not line.endswith("\\"), f"{where}: no line continuations"
        if stripped.startswith("["):
            assert stripped.endswith("]") and line == stripped, f"{where}: bad stanza header"
            name = stripped[1:-1]
            assert name not in stanzas, f"{where}: duplicate stanza [{name}]"
            current = stanzas[name] = {}
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        assert current is not None, f"{where}: setting outside a stanza"
        assert sep and re.fullmatch(r"[A-Za-z0-9_.\-]+", key) and value, f"{where}: not 'key = value'"
        assert key not in current, f"{where}: duplicate key {key}"
        current[key] = value
    return stanzas


@cache
def conf(name: str) -> dict[str, dict[str, str]]:
    return parse_conf(TA / "default" / f"{name}.conf")


def aliases(stanza: dict[str, str]) -> list[tuple[str, str]]:
    pairs = []
    for key, value in stanza.items():
        if key.startswith("FIELDALIAS-"):
            words = value.split()
            assert len(words) % 3 == 0 and all(w in ("AS", "ASNEW") for w in words[1::3]), value
            pairs += list(zip(words[0::3], words[2::3], strict=True))
    return pairs


def evals(stanza: dict[str, str]) -> dict[str, str]:
    return {key.removeprefix("EVAL-"): value for key, value in stanza.items() if key.startswith("EVAL-")}


# --- an evaluator for the SPL eval subset the add-on uses -------------------------------------

Value = Any  # None (null), str, list[str] (multivalue), bool
Expr = Callable[[dict[str, Value]], Value]

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<field>'[^']+')|(?P<num>\d+(?:\.\d+)?)
    |(?P<op>==|!=|<=|>=|=|<|>|[(),])|(?P<name>[A-Za-z_][A-Za-z0-9_]*))""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        assert match, f"cannot tokenize {text[pos : pos + 40]!r}"
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _num(value: Value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(op: str, left: Value, right: Value) -> bool | None:
    if left is None or right is None:
        return None
    if isinstance(left, list):
        left = left[0]
    a, b = _num(left), _num(right)
    x, y = (a, b) if a is not None and b is not None else (str(left), str(right))
    return {
        "==": x == y,
        "=": x == y,
        "!=": x != y,
        "<": x < y,
        ">": x > y,
        "<=": x <= y,
        ">=": x >= y,
    }[op]


def _truth(value: Value) -> bool:
    assert value is None or isinstance(value, bool), f"not a boolean: {value!r}"
    return value is True


def _json(value: Value) -> Any:
    if not isinstance(value, str):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _as_value(found: Any) -> Value:
    if found is None:
        return None
    if isinstance(found, dict | list):
        return json.dumps(found, separators=(",", ":"))
    if isinstance(found, bool):
        return "true" if found else "false"
    return str(found)


def _json_extract(doc: Value, path: Value) -> Value:
    found = _json(doc)
    for key in str(path).split("."):
        found = found.get(key) if isinstance(found, dict) else None
    return _as_value(found)


def _json_array_to_mv(array: Value) -> Value:
    items = _json(array)
    values = [_as_value(item) for item in items] if isinstance(items, list) else []
    return [v for v in values if v is not None] or None


FUNCTIONS: dict[str, Callable[[list[Value]], Value]] = {
    "coalesce": lambda a: next((v for v in a if v is not None), None),
    "isnull": lambda a: a[0] is None,
    "isnotnull": lambda a: a[0] is not None,
    "null": lambda a: None,
    "true": lambda a: True,
    "lower": lambda a: None if a[0] is None else str(a[0]).lower(),
    "match": lambda a: None if a[0] is None else re.search(a[1], str(a[0])) is not None,
    "replace": lambda a: None if a[0] is None else re.sub(a[1], a[2], str(a[0])),
    "json_extract": lambda a: _json_extract(a[0], a[1]),
    "json_extract_exact": lambda a: _as_value(d.get(a[1])) if isinstance(d := _json(a[0]), dict) else None,
    "json_keys": lambda a: json.dumps(list(d)) if isinstance(d := _json(a[0]), dict) else None,
    "json_array_to_mv": lambda a: _json_array_to_mv(a[0]),
}


class EvalParser:
    """Recursive-descent parser: SPL eval text → a function of the event's fields.

    Field names with dots must be single-quoted (``'src_endpoint.ip'``): ``.`` is SPL's
    concatenation operator, which the add-on does not use, so a bare dotted name fails here.
    """

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.fields: set[str] = set()
        self.expr = self._or()
        assert self.pos == len(self.tokens), f"trailing text in {text!r}"

    def _peek(self, *values: str) -> bool:
        return self.pos < len(self.tokens) and self.tokens[self.pos][1] in values

    def _take(self, value: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.pos]
        assert value is None or token[1] == value, f"expected {value!r}, got {token[1]!r}"
        self.pos += 1
        return token

    def _or(self) -> Expr:
        left = self._and()
        while self._peek("OR"):
            self._take()
            left = _or_of(left, self._and())
        return left

    def _and(self) -> Expr:
        left = self._not()
        while self._peek("AND"):
            self._take()
            left = _and_of(left, self._not())
        return left

    def _not(self) -> Expr:
        if self._peek("NOT"):
            self._take()
            inner = self._not()
            return lambda f: None if (v := inner(f)) is None else not _truth(v)
        left = self._primary()
        if self._peek("==", "=", "!=", "<", ">", "<=", ">="):
            op = self._take()[1]
            right = self._primary()
            return lambda f: _compare(op, left(f), right(f))
        return left

    def _primary(self) -> Expr:
        kind, text = self._take()
        if kind == "str":
            literal = re.sub(r'\\(["\\])', r"\1", text[1:-1])
            return lambda f: literal
        if kind == "num":
            return lambda f: text
        if kind == "field" or (kind == "name" and not self._peek("(")):
            name = text.strip("'")
            self.fields.add(name)
            return lambda f: f.get(name)
        if text == "(":
            inner = self._or()
            self._take(")")
            return inner
        assert kind == "name", f"unexpected {text!r}"
        self._take("(")
        args: list[Expr] = []
        while not self._peek(")"):
            args.append(self._or())
            if not self._peek(")"):
                self._take(",")
        self._take(")")
        return _call(text, args)


def _or_of(left: Expr, right: Expr) -> Expr:
    def run(f: dict[str, Value]) -> Value:
        a, b = left(f), right(f)
        return True if _truth(a) or _truth(b) else (None if None in (a, b) else False)

    return run


def _and_of(left: Expr, right: Expr) -> Expr:
    def run(f: dict[str, Value]) -> Value:
        a, b = left(f), right(f)
        return False if False in (a, b) else (None if None in (a, b) else _truth(a) and _truth(b))

    return run


def _call(name: str, args: list[Expr]) -> Expr:
    if name == "case":
        assert len(args) % 2 == 0, "case() takes condition/value pairs"
        pairs = list(zip(args[0::2], args[1::2], strict=True))
        return lambda f: next((value(f) for cond, value in pairs if _truth(cond(f))), None)
    if name == "if":
        assert len(args) == 3, "if() takes three arguments"
        return lambda f: args[1](f) if _truth(args[0](f)) else args[2](f)
    assert name in FUNCTIONS, f"eval function {name}() is not supported by this test's evaluator"
    function = FUNCTIONS[name]
    return lambda f: function([arg(f) for arg in args])


@cache
def compiled(expression: str) -> EvalParser:
    return EvalParser(expression)


# --- event-type searches ----------------------------------------------------------------------

_SEARCH_TOKEN = re.compile(r'\s*(?:(?P<q>"[^"]*")|(?P<op>!=|=|[(),])|(?P<w>[^\s=!(),"]+))')


def search_matches(search: str, fields: dict[str, Value]) -> bool:
    """Evaluate an event-type search: field=value, field!=value, IN, NOT, AND, OR, parentheses."""
    tokens = [m.group(m.lastgroup or "") for m in _SEARCH_TOKEN.finditer(search) if m.lastgroup]
    tokens = [t[1:-1] if t.startswith('"') else t for t in tokens]
    pos = 0

    def values_of(name: str) -> list[str]:
        value = fields.get(name)
        return [] if value is None else [str(v) for v in (value if isinstance(value, list) else [value])]

    def hit(name: str, patterns: list[str]) -> bool:
        return any(fnmatch.fnmatch(v.lower(), p.lower()) for v in values_of(name) for p in patterns)

    def atom() -> bool:
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token == "(":
            result = all_of()
            assert tokens[pos] == ")"
            pos += 1
            return result
        op = tokens[pos]
        pos += 1
        if op == "IN":
            assert tokens[pos] == "("
            patterns = []
            while tokens[pos] != ")":
                patterns.append(tokens[pos + 1])
                pos += 2
            pos += 1
            return hit(token, patterns)
        value = tokens[pos]
        pos += 1
        assert op in ("=", "!="), f"unsupported search operator {op!r}"
        return hit(token, [value]) if op == "=" else bool(values_of(token)) and not hit(token, [value])

    def negation() -> bool:
        nonlocal pos
        if tokens[pos] == "NOT":
            pos += 1
            return not negation()
        return atom()

    def any_of() -> bool:
        nonlocal pos
        result = negation()
        while pos < len(tokens) and tokens[pos] == "OR":
            pos += 1
            result = negation() or result
        return result

    def all_of() -> bool:  # SPL evaluates OR before the (implicit) AND
        nonlocal pos
        result = any_of()
        while pos < len(tokens) and tokens[pos] != ")":
            if tokens[pos] == "AND":
                pos += 1
            result = any_of() and result
        return result

    result = all_of()
    assert pos == len(tokens), f"trailing text in search {search!r}"
    return result


# --- search time: KV_MODE=json → FIELDALIAS → EVAL → event types → tags ------------------------


def kv_json(value: Any, prefix: str = "", out: dict[str, Value] | None = None) -> dict[str, Value]:
    """Flatten JSON the way KV_MODE=json names fields: ``a.b``, arrays as ``a{}``."""
    out = {} if out is None else out
    if isinstance(value, dict):
        for key, item in value.items():
            kv_json(item, f"{prefix}.{key}" if prefix else key, out)
    elif isinstance(value, list):
        for item in value:
            kv_json(item, f"{prefix}{{}}", out)
    elif value is not None:
        text = _as_value(value)
        old = out.get(prefix)
        out[prefix] = text if old is None else [*(old if isinstance(old, list) else [old]), text]
    return out


def search_time(sourcetype: str, document: dict[str, Any]) -> dict[str, Value]:
    """The fields Splunk would show for ``document`` sent to HEC with ``sourcetype``."""
    raw = json.dumps(document)
    fields = kv_json(document)
    fields |= {
        "_raw": raw,
        "sourcetype": sourcetype,
        "host": "api.openai.com",
        "source": "openai:admin_api:audit_logs",
        "openai_org_id": ORG_ID,
        "openai_event_type": document.get("type") or document.get("metadata", {}).get("event_code"),
    }
    stanza = conf("props")[sourcetype]
    for src, dest in aliases(stanza):
        if fields.get(src) is not None:
            fields[dest] = fields[src]
    inputs = dict(fields)  # calculated fields all see the same input: none reads another's result
    for field, expression in evals(stanza).items():
        result = compiled(expression).expr(inputs)
        if result is None:
            fields.pop(field, None)
        else:
            fields[field] = result
    eventtypes = [name for name, st in conf("eventtypes").items() if search_matches(st["search"], fields)]
    fields["eventtype"] = eventtypes
    tags = conf("tags")
    fields["tag"] = sorted(
        {tag for et in eventtypes for tag, on in tags.get(f"eventtype={et}", {}).items() if on == "enabled"}
    )
    return fields


_NORMALIZER = OcsfNormalizer(org_id=ORG_ID)


def as_sent(sourcetype: str, event: dict[str, Any]) -> dict[str, Any]:
    return _NORMALIZER.normalize(event) if sourcetype == OCSF else event


def data_set(fields: dict[str, Value]) -> str:
    tags = fields["tag"]
    if "authentication" in tags:
        return DATA_SETS["authentication"]
    return DATA_SETS["account"] if "account" in tags else "Change:All_Changes"


# --- CIM data models --------------------------------------------------------------------------


@cache
def model_fields(model: str, dataset: str) -> dict[str, dict[str, Any]]:
    """The fields of ``dataset`` (and its parents) in the pytest-splunk-addon data model."""

    def walk(objects: list[dict[str, Any]], inherited: dict[str, Any]) -> Iterator[tuple[str, dict]]:
        for obj in objects:
            fields = {**inherited, **{f["name"]: f for f in obj["fields"]}}
            yield obj["name"], fields
            yield from walk(obj.get("child_dataset", []), fields)

    spec = json.loads((DATA / f"{model}.json").read_text(encoding="utf-8"))
    return dict(walk(spec["objects"], {}))[dataset]


def cim_fields(dataset: str) -> dict[str, dict[str, Any]]:
    if dataset == "Authentication":
        return model_fields("Authentication", "Authentication")
    return model_fields("Change", dataset.split(":")[1])


def cim_problems(fields: dict[str, Value], raw_payload: Any) -> list[str]:
    """What pytest-splunk-addon's CIM checks would report for one event."""
    problems = []
    tags = fields["tag"]
    if ("authentication" in tags) == ("change" in tags):
        problems.append(f"tagged {tags}: needs exactly one of authentication, change")
    dataset = data_set(fields)
    spec = cim_fields(dataset)
    has_payload_attrs = isinstance(raw_payload, dict) and bool(
        {"changes_requested", "data"} & set(raw_payload)
    )
    for name, field in spec.items():
        value = fields.get(name)
        # object_attrs is "if applicable": it must be set whenever the payload says what changed.
        applicable = name != "object_attrs" or has_payload_attrs
        if field["type"] == "required" and name != "tag" and value in (None, "", []) and applicable:
            problems.append(f"{dataset}: required field {name} is missing")
        if value is not None and field.get("expected_values") and value not in field["expected_values"]:
            problems.append(f"{dataset}: {name}={value!r} not in {field['expected_values']}")
        values = value if isinstance(value, list) else [value]
        if value is not None and "like(" in field.get("validity", "") and any('"' in v for v in values):
            problems.append(f"{dataset}: {name} contains a double quote")
    if "change" in tags and (("account" in tags) != (fields.get("object_category") == "user")):
        problems.append(f"object_category={fields.get('object_category')!r} but tags {tags}")
    if fields.get("status") == "failure" and "change" in tags and not fields.get("result"):
        problems.append("status=failure without result")
    if fields.get("object_category") == "user" and not fields.get("src_user"):
        problems.append("account change without src_user")
    return problems


# --- the tests --------------------------------------------------------------------------------


def test_every_conf_file_is_well_formed_and_the_app_is_named_after_its_folder() -> None:
    names = {p.name for p in (TA / "default").iterdir()}
    assert {"app.conf", "props.conf", "eventtypes.conf", "tags.conf"} <= names
    for path in [*(TA / "default").glob("*.conf"), TA / "metadata" / "default.meta"]:
        assert parse_conf(path), path
    app = conf("app")
    assert app["package"]["id"] == app["id"]["name"] == TA.name
    assert app["ui"]["is_visible"] == "false"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert app["id"]["version"] == app["launcher"]["version"] == project["version"]
    meta = parse_conf(TA / "metadata" / "default.meta")
    assert meta[""]["export"] == "system", "CIM data models only see exported knowledge objects"
    assert (TA / "README.md").is_file()


def test_props_conf_is_the_output_of_build_props() -> None:
    spec = importlib.util.spec_from_file_location("build_props", ROOT / "splunk" / "build_props.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    on_disk = (TA / "default" / "props.conf").read_text(encoding="utf-8")
    assert module.render() == on_disk, "props.conf is out of date: run python splunk/build_props.py"


@pytest.mark.parametrize("sourcetype", SOURCETYPES)
def test_each_sourcetype_has_json_props_that_never_truncate_an_event_hec_accepts(sourcetype: str) -> None:
    stanza = conf("props")[sourcetype]
    assert stanza["KV_MODE"] == "json"
    assert stanza["SHOULD_LINEMERGE"] == "false"
    assert int(stanza["TRUNCATE"]) >= SinkSettings().max_event_bytes
    assert "INDEXED_EXTRACTIONS" not in stanza, "would extract every field twice next to KV_MODE=json"


def test_tags_and_event_types_name_each_other() -> None:
    eventtypes, tags = conf("eventtypes"), conf("tags")
    assert {f"eventtype={name}" for name in eventtypes} == set(tags)
    assert all(on == "enabled" for stanza in tags.values() for on in stanza.values())
    assert {tag for stanza in tags.values() for tag in stanza} == {"authentication", "change", "account"}
    assert tags["eventtype=openai_audit_account"] == {"change": "enabled", "account": "enabled"}
    for name, stanza in eventtypes.items():
        for sourcetype in re.findall(r'"([a-z]+:[a-z:]+)"', stanza["search"]):
            assert sourcetype in SOURCETYPES, f"{name} searches an unknown sourcetype {sourcetype}"


@pytest.mark.parametrize("sourcetype", SOURCETYPES)
def test_every_cim_required_field_is_calculated_for_each_sourcetype(sourcetype: str) -> None:
    stanza = conf("props")[sourcetype]
    provided = set(evals(stanza)) | {dest for _, dest in aliases(stanza)}
    for dataset in ("Authentication", "Change:All_Changes", "Change:Account_Management"):
        wanted = {
            name
            for name, field in cim_fields(dataset).items()
            if field["type"] in ("required", "conditional") and name != "tag"
        }
        wanted -= {"src_user"} if dataset == "Authentication" else set()  # only for privilege escalation
        assert wanted <= provided, f"{sourcetype} {dataset}: no EVAL/FIELDALIAS for {wanted - provided}"
    assert {"user_id", "signature", "reason", "vendor_account", "src_ip", "user_agent"} <= provided


@pytest.mark.parametrize("sourcetype", SOURCETYPES)
def test_no_calculated_field_reads_another_or_an_alias_chain(sourcetype: str) -> None:
    stanza = conf("props")[sourcetype]
    outputs = set(evals(stanza))
    alias_pairs = aliases(stanza)
    for field, expression in evals(stanza).items():
        read = compiled(expression).fields
        assert not read & (outputs - {field}), f"EVAL-{field} reads calculated {read & outputs}"
    dests = {dest for _, dest in alias_pairs}
    assert not {src for src, _ in alias_pairs} & (dests | outputs), "FIELDALIAS must read extracted fields"


@pytest.mark.parametrize("sourcetype", SOURCETYPES)
def test_cim_data_set_and_action_match_the_mapping_table_for_every_event_type(sourcetype: str) -> None:
    wrong = []
    for event_type, row in MAPPING.items():
        document = as_sent(sourcetype, make_event(event_type, SESSION_IPV4))
        if sourcetype == OCSF:
            assert document["class_uid"] == row.class_uid, f"{event_type}: sample degraded"
        fields = search_time(sourcetype, document)
        got = (data_set(fields), fields.get("action"))
        if got != (row.cim_dataset, row.cim_action):
            wrong.append(f"{event_type}: {got} != {(row.cim_dataset, row.cim_action)}")
    assert not wrong, "\n".join(wrong)
    assert len(MAPPING) == 145


@pytest.mark.parametrize("sourcetype", SOURCETYPES)
def test_change_type_is_aaa_exactly_for_the_iam_rows(sourcetype: str) -> None:
    wrong = []
    for event_type, row in MAPPING.items():
        if row.cim_dataset == "Authentication":
            continue
        fields = search_time(sourcetype, as_sent(sourcetype, make_event(event_type)))
        expected = "AAA" if "iam" in row.ecs_category else "configuration"
        if fields["change_type"] != expected:
            wrong.append(f"{event_type}: {fields['change_type']} != {expected}")
    assert not wrong, "\n".join(wrong)


def _variants() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every type with every actor shape, plus the payload variants that change the OCSF class."""
    for event_type in MAPPING:
        for shape, actor in ACTOR_SHAPES.items():
            yield f"{event_type}/{shape}", make_event(event_type, actor)
    group = {"id": "ra_01", "principal_id": "group_07", "principal_type": "group", "role_id": "role_01"}
    for event_type in ("role.assignment.created", "tenant.role_assignment.deleted"):
        yield f"{event_type}/group principal", make_event(event_type, payload=group)
    for event_type in ("user.added", "service_account.deleted", "tenant.group.member.added", "user.updated"):
        yield f"{event_type}/no target (degraded)", make_event(event_type, payload={})
    for event_type in (
        "widget.created",
        "tenant.widget.frobnicated",
        "tenant.user.suspended",
        "user.invited",
    ):
        yield f"{event_type}/unknown type", make_event(event_type, payload={"id": "x_01", "name": "x"})


@pytest.mark.parametrize("sourcetype", SOURCETYPES)
def test_every_event_satisfies_the_cim_data_model(sourcetype: str) -> None:
    problems = []
    for label, event in _variants():
        fields = search_time(sourcetype, as_sent(sourcetype, event))
        problems += [f"{label}: {p}" for p in cim_problems(fields, event.get(event["type"]))]
    assert not problems, "\n".join(problems[:40])


def test_both_sourcetypes_give_the_same_cim_view_of_the_same_event() -> None:
    differ = []
    for label, event in _variants():
        row: MappingRow | None = MAPPING.get(event["type"])
        document = _NORMALIZER.normalize(event)
        if row is not None and document["class_uid"] != row.class_uid:
            continue  # a degraded or group-principal event: OCSF follows the class it got
        ocsf, raw = search_time(OCSF, document), search_time(RAW, event)
        for name in ("tag", "action", "status", "change_type", "app", "dest", "src", "command"):
            if ocsf.get(name) != raw.get(name):
                differ.append(f"{label}: {name} {ocsf.get(name)!r} (OCSF) != {raw.get(name)!r} (raw)")
        if (ocsf.get("object_category") == "user") != (raw.get("object_category") == "user"):
            differ.append(f"{label}: account {ocsf.get('object_category')} != {raw.get('object_category')}")
    assert not differ, "\n".join(differ[:40])


@pytest.mark.parametrize("sourcetype", SOURCETYPES)
@pytest.mark.parametrize(
    ("event_type", "dataset", "action"),
    [
        ("widget.created", "Change:All_Changes", "created"),
        ("tenant.widget.provisioned", "Change:All_Changes", "created"),
        ("widget.looked_up", "Change:All_Changes", "read"),
        ("tenant.widget.upserted", "Change:All_Changes", "updated"),
        ("widget.revoked", "Change:All_Changes", "deleted"),
        ("widget.disabled", "Change:All_Changes", "modified"),
        ("tenant.widget.frobnicated", "Change:All_Changes", "modified"),
        ("tenant.user.suspended", "Change:Account_Management", "modified"),
        ("service_account.created_again", "Change:Account_Management", "modified"),
    ],
)
def test_unknown_event_types_follow_the_verb_rule(
    sourcetype: str, event_type: str, dataset: str, action: str
) -> None:
    event = make_event(event_type, payload={"id": "x_01"})
    fields = search_time(sourcetype, as_sent(sourcetype, event))
    assert (data_set(fields), fields["action"]) == (dataset, action)


@pytest.mark.parametrize(("verb", "activity_id"), sorted(VERB_ACTIVITIES.items()))
def test_both_sourcetypes_apply_the_normalizers_verb_rule_to_unknown_types(
    verb: str, activity_id: int
) -> None:
    expected = {1: "created", 2: "read", 3: "updated", 4: "deleted"}.get(activity_id, "modified")
    event = make_event(f"tenant.widget.{verb}", payload={"id": "x_01"})
    for sourcetype in SOURCETYPES:
        assert search_time(sourcetype, as_sent(sourcetype, event))["action"] == expected, sourcetype


@pytest.mark.parametrize("sourcetype", SOURCETYPES)
def test_a_failed_login_carries_its_reason_source_and_organization(sourcetype: str) -> None:
    payload = {"error_code": "invalid_credentials", "error_message": "Invalid email or password."}
    fields = search_time(sourcetype, as_sent(sourcetype, make_event("login.failed", payload=payload)))
    assert fields["tag"] == ["authentication"]
    assert fields["action"] == "failure"
    assert fields["reason"] == "Invalid email or password."
    assert (fields["src"], fields["src_ip"]) == ("203.0.113.10", "203.0.113.10")
    assert (fields["user"], fields["user_id"]) == ("alice@example.com", "user-abc123")
    assert (fields["signature"], fields["vendor_account"]) == ("login.failed", ORG_ID)


@pytest.mark.parametrize("sourcetype", SOURCETYPES)
def test_an_account_change_names_the_changed_account_and_who_changed_it(sourcetype: str) -> None:
    payload = {"id": "user-tgt001", "changes_requested": {"role": "owner"}}
    fields = search_time(sourcetype, as_sent(sourcetype, make_event("user.updated", API_KEY_SA, payload)))
    assert fields["tag"] == ["account", "change"]
    assert (fields["action"], fields["object_category"]) == ("modified", "user")
    assert (fields["user"], fields["user_id"], fields["object_id"]) == ("user-tgt001",) * 3
    assert fields["src_user"] == "svc_acct_01"
    assert fields["object_attrs"] in ("role", ["role"])
    assert fields["src"] == "unknown"  # an API key has no IP


def test_the_evaluator_follows_splunk_semantics() -> None:
    fields: dict[str, Value] = {"a": "1", "s": "x.failed"}
    assert compiled("if(missing==1, 1, 2)").expr(fields) == "2"
    assert compiled("a==1 OR missing==1").expr(fields) is True
    assert compiled("a==2 OR missing==1").expr(fields) is None
    assert compiled('case(match(s, "\\.failed$"), "failure", true(), "success")').expr(fields) == "failure"
    assert compiled("coalesce(missing, 'a')").expr(fields) == "1"
    with pytest.raises(AssertionError, match="cannot tokenize"):
        compiled("isnull(src_endpoint.ip)")
    assert search_matches('a=1 NOT s IN ("*.ok", "y")', fields)
    assert not search_matches("a!=1 OR missing=*", fields)
    assert not search_matches("a=2 a=1 OR s=x*", fields), "OR binds tighter than AND in SPL"
    assert search_matches("(a=2 a=1) OR s=x*", fields)
