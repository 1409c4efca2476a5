"""HEC answers → what the sink does, and the envelope it sends."""

from __future__ import annotations

import orjson
import pytest

from connector.config import SinkSettings
from connector.models import OutputRecord
from connector.sinks.hec_protocol import EnvelopeBuilder, HecAnswer, Verdict


@pytest.mark.parametrize(
    ("status", "code", "verdict"),
    [
        (200, 0, Verdict.OK),
        (503, 9, Verdict.RETRY),
        (500, 8, Verdict.RETRY),
        (429, None, Verdict.RETRY),
        (502, None, Verdict.RETRY),
        (599, None, Verdict.RETRY),  # network error
        (413, None, Verdict.SPLIT),
        (400, 6, Verdict.BAD_DATA),
        (400, 12, Verdict.BAD_DATA),
        (400, 13, Verdict.BAD_DATA),
        (400, 15, Verdict.BAD_DATA),
        (403, 1, Verdict.CONFIG),
        (401, 2, Verdict.CONFIG),
        (401, 3, Verdict.CONFIG),
        (403, 4, Verdict.CONFIG),
        (400, 7, Verdict.CONFIG),
        (400, 10, Verdict.CONFIG),
        (400, 11, Verdict.CONFIG),
        (400, 14, Verdict.CONFIG),
        (400, 16, Verdict.CONFIG),
    ],
)
def test_each_hec_code_has_one_meaning(status: int, code: int | None, verdict: Verdict) -> None:
    body = orjson.dumps({"text": "x", "code": code}) if code is not None else b""
    assert HecAnswer.parse(status, body).verdict is verdict


def test_answer_fields_are_read_defensively() -> None:
    answer = HecAnswer.parse(400, b'{"text":"Invalid data format","code":6,"invalid-event-number":3}')
    assert (answer.code, answer.bad_event) == (6, 3)
    assert HecAnswer.parse(200, b'{"text":"Success","code":0,"ackId":7}').ack_id == 7
    assert HecAnswer.parse(502, b"<html>bad gateway</html>").code is None


def test_envelope_is_valid_json_with_time_metadata_and_flat_indexed_fields() -> None:
    settings = SinkSettings(index="openai", host="api.openai.com")
    builder = EnvelopeBuilder(settings, output_format="ocsf", org_id="org-9")
    record = OutputRecord(
        "audit_log-1", b'{"class_uid":3002,"x":"\\u00e9"}', "login.failed", 1_767_225_600, 3002
    )
    doc = orjson.loads(builder.envelope(record))
    assert doc == {
        "host": "api.openai.com",
        "source": "openai:admin_api:audit_logs",
        "sourcetype": "ocsf:openai:audit",
        "index": "openai",
        "time": 1_767_225_600,
        "fields": {"openai_event_type": "login.failed", "openai_org_id": "org-9"},
        "event": {"class_uid": 3002, "x": "é"},
    }


def test_raw_output_gets_the_raw_sourcetype_and_no_index_means_the_tokens_default() -> None:
    builder = EnvelopeBuilder(SinkSettings(indexed_fields=False), output_format="raw", org_id=None)
    doc = orjson.loads(builder.envelope(OutputRecord("i", b"{}", "t", 1)))
    assert doc["sourcetype"] == "openai:audit" and "index" not in doc and "fields" not in doc
