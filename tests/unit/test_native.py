"""The normalizer compiled with mypyc (setup.py) and the pure-Python one write the same documents.

scripts/bootstrap compiles ``connector.normalize.native.MODULES`` from the same source; the
rest of the suite tests the compiled build. Here a copy of the sources without the built
extensions runs in a child process over the same events, and every document must be the
same bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connector.normalize import make_normalizer, native
from connector.serialize import dumps
from connector.simulator import generate_events
from tests.golden.cases import FORMATS, ORG_ID, golden_events, golden_types

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys
import connector.normalize.ocsf as ocsf
from connector.normalize import make_normalizer
from connector.serialize import dumps
assert ocsf.__file__.endswith(".py"), ocsf.__file__
events = json.loads(open(sys.argv[1], encoding="utf-8").read())
for fmt in sys.argv[3:]:
    normalizer = make_normalizer(fmt, org_id=sys.argv[2])
    with open(sys.argv[1] + "." + fmt, "wb") as out:
        out.write(b"\\n".join(dumps(normalizer.normalize(event)) for event in events))
"""


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = {f"level{level}": value} if level % 2 else [value]
    return value


def _odd_events() -> list[dict[str, Any]]:
    """Edge cases of every cleaning and casting rule, as JSON can carry them."""
    base = {"id": "audit_log-odd", "effective_at": 1767225600}
    return [
        {**base, "type": "api_key.created", "api_key.created": {"id": 2**70, "data": {"a.b": "", "c": None}}},
        {**base, "type": "project.updated", "project.updated": _nested(60), "project": "proj_bare"},
        {**base, "type": "widget.frobnicated", "widget.frobnicated": [1, "", None, {"x.y": [2**65]}]},
        {**base, "type": "login.failed", "login.failed": {"error_code": 401, "error_message": 3.5}},
        {**base, "type": "login.succeeded", "effective_at": 1.5e9, "actor": {"type": "odd", "x": 1}},
        {**base, "type": "user.added", "user.added": "not an object", "actor": None, "source": "top"},
        {"id": 7, "type": None, "effective_at": "yesterday"},
        {"id": "", "type": "", "effective_at": -(2**62), "": {"": ""}},
        {**base, "type": "service_account.created", "effective_at": 10**19, "project": {"id": 5, "name": ""}},
        {**base, "type": "ip_allowlist.created", "ip_allowlist.created": {"allowed_ips": ["10.0.0.1", "x"]}},
    ]


def _events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = generate_events(3000, start=1_767_225_600, end=1_769_817_600, seed=7)
    for event_type in golden_types():
        events.extend(golden_events(event_type).values())
    return events + _odd_events()


def test_this_install_runs_the_normalizer_compiled() -> None:
    if os.environ.get("CONNECTOR_PURE_PYTHON", "0") not in ("", "0"):
        pytest.skip("CONNECTOR_PURE_PYTHON is set: this install runs the pure-Python normalizer on purpose")
    assert native.compiled() == list(native.MODULES), (
        "scripts/bootstrap compiles these modules with mypyc (setup.py); did the build find a C compiler? "
        f"Running as Python: {sorted(set(native.MODULES) - set(native.compiled()))}"
    )
    assert native.summary() == f"compiled (mypyc), {len(native.MODULES)} of {len(native.MODULES)} modules"


def test_compiled_and_pure_python_normalizers_write_the_same_bytes(tmp_path: Path) -> None:
    if not native.compiled():
        pytest.skip("nothing is compiled in this install: there is no second build to compare with")
    source = tmp_path / "src"
    shutil.copytree(
        ROOT / "connector", source / "connector", ignore=shutil.ignore_patterns("*.so", "__pycache__")
    )
    events = _events()
    # The same input on both sides: JSON text, decoded by each process.
    events = json.loads(json.dumps(events))
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(source)}
    result = subprocess.run(
        [sys.executable, "-P", "-c", CHILD, str(path), ORG_ID, *FORMATS],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr

    for fmt in FORMATS:
        normalizer = make_normalizer(fmt, org_id=ORG_ID)
        compiled = [dumps(normalizer.normalize(event)) for event in events]
        pure = (tmp_path / f"events.json.{fmt}").read_bytes().split(b"\n")
        assert len(pure) == len(compiled)
        for event, mine, theirs in zip(events, compiled, pure, strict=True):
            assert mine == theirs, f"{fmt}: the builds differ on event {str(event)[:300]}"
