"""Golden files: every output format × every event type × every actor shape, compared byte for byte.

Any change to what the connector emits fails here with a unified diff. When the change
is intended, regenerate the files (``python tests/golden/regen.py``) and commit them with
the code, so the review shows the output change next to its cause.
"""

from __future__ import annotations

import difflib
import json

import pytest

from connector.catalogue import EVENT_TYPES
from tests.golden.cases import (
    EXTRA_TYPES,
    FORMATS,
    GOLDEN_DIR,
    GROUP_PRINCIPAL,
    REGENERATE,
    golden_events,
    golden_path,
    golden_types,
    outputs,
    render,
)
from tests.unit.ecs_validation import ecs_errors
from tests.unit.normalize_samples import ACTOR_SHAPES
from tests.unit.ocsf_validation import ocsf_errors

MAX_DIFF_LINES = 200
CASES = [(fmt, t) for fmt in FORMATS for t in golden_types()]


@pytest.mark.parametrize(("fmt", "event_type"), CASES, ids=[f"{f}-{t}" for f, t in CASES])
def test_output_matches_the_golden_file(fmt: str, event_type: str) -> None:
    path = golden_path(fmt, event_type)
    assert path.exists(), f"{path} is missing; create it with `{REGENERATE}`"
    expected = path.read_text("utf-8")

    actual = render(outputs(fmt, event_type))

    if actual != expected:
        diff = list(
            difflib.unified_diff(
                expected.splitlines(),
                actual.splitlines(),
                fromfile=f"golden {path.relative_to(GOLDEN_DIR.parent.parent)}",
                tofile=f"{fmt} normalizer output now",
                lineterm="",
            )
        )
        shown = "\n".join(diff[:MAX_DIFF_LINES])
        more = f"\n… {len(diff) - MAX_DIFF_LINES} more diff lines" if len(diff) > MAX_DIFF_LINES else ""
        pytest.fail(
            f"{fmt} output for {event_type} differs from its golden file:\n{shown}{more}\n\n"
            f"If the change is intended, run `{REGENERATE}`, review `git diff tests/golden` "
            "and commit the files with the change.",
            pytrace=False,
        )


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_catalogue_type_has_a_golden_file(fmt: str) -> None:
    present = {p.name.removesuffix(".json") for p in (GOLDEN_DIR / fmt).glob("*.json")}
    missing = sorted(set(EVENT_TYPES) - present)
    assert not missing, f"no {fmt} golden file for {missing}; run `{REGENERATE}`"
    stale = sorted(present - set(golden_types()))
    assert not stale, f"{fmt} golden files for types no longer tested: {stale}; run `{REGENERATE}`"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_golden_file_holds_every_actor_shape(fmt: str) -> None:
    for event_type in golden_types():
        documents = json.loads(golden_path(fmt, event_type).read_text("utf-8"))
        assert set(ACTOR_SHAPES) <= set(documents), (fmt, event_type)
        assert set(documents) == set(golden_events(event_type)), (fmt, event_type)


def test_the_golden_set_covers_the_whole_matrix() -> None:
    assert len(EVENT_TYPES) == 145
    assert EXTRA_TYPES and not set(EXTRA_TYPES) & set(EVENT_TYPES)
    assert any(GROUP_PRINCIPAL in golden_events(t) for t in EVENT_TYPES)


def test_golden_ids_are_stable() -> None:
    # The sample builder derives ids from repr(actor); for the "no actor" marker that repr
    # holds a memory address, so the golden cases set their own ids.
    first = golden_events("project.created")
    second = golden_events("project.created")
    assert {k: v["id"] for k, v in first.items()} == {k: v["id"] for k, v in second.items()}


@pytest.mark.parametrize("event_type", golden_types())
def test_golden_ocsf_documents_validate(event_type: str) -> None:
    documents = json.loads(golden_path("ocsf", event_type).read_text("utf-8"))
    for case, document in documents.items():
        errors = ocsf_errors(document)
        assert errors == [], f"{event_type} / {case}:\n" + "\n".join(errors)


@pytest.mark.parametrize("event_type", golden_types())
def test_golden_ecs_documents_validate(event_type: str) -> None:
    documents = json.loads(golden_path("ecs", event_type).read_text("utf-8"))
    for case, document in documents.items():
        errors = ecs_errors(document)
        assert errors == [], f"{event_type} / {case}:\n" + "\n".join(errors)


@pytest.mark.parametrize("event_type", golden_types())
def test_golden_raw_documents_are_the_sample_events(event_type: str) -> None:
    documents = json.loads(golden_path("raw", event_type).read_text("utf-8"))
    assert documents == golden_events(event_type)
