"""The connector into a Splunk HEC receiver over loopback: acks, busy storms, poison events, a wrong token."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from connector.normalize.ocsf import OcsfNormalizer
from connector.simulator import EventStore, Faults, generate_events, is_tenant_scoped
from tests.e2e.harness import Workspace, serve, terminate, wait_for
from tests.hec_receiver import HecReceiver, HecToken

DAY = 86400
TOKEN = "5f1b7c3e-0d2a-4b6e-9f8a-1c2d3e4f5a6b"


def hec_settings(receiver: HecReceiver, token: str = TOKEN, **extra: str) -> dict[str, str]:
    return {
        "SINK__TYPE": "splunk_hec",
        "SINK__URL": receiver.url,
        "SINK__TOKEN": token,
        "SINK__INDEX": "openai",
        "SINK__ACK_POLL_INTERVAL": "0.2",
        "SINK__RETRY_BASE": "0.05",
        "SINK__RETRY_MAX": "0.5",
    } | extra


def uids(receiver: HecReceiver) -> list[str]:
    return [e["event"]["metadata"]["uid"] for e in receiver.indexed_events()]


def test_50k_events_are_delivered_with_indexer_acknowledgement(tmp_path: Path) -> None:
    now = int(time.time())
    events = generate_events(50_000, start=now - 3 * DAY, end=now - 60, seed=41)
    store = EventStore()
    store.add_many(events)
    with serve(store) as server, HecReceiver([HecToken(TOKEN, indexes=("openai",))], ack_delay_s=0.3) as hec:
        ws = Workspace(tmp_path, server.url, **hec_settings(hec))
        result = ws.run("run", "--once", timeout=900)
        indexed = hec.indexed_events()
        assert hec.ack_queries > 0
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert sorted(e["event"]["metadata"]["uid"] for e in indexed) == sorted(e["id"] for e in events)
    normalizer = OcsfNormalizer(org_id="org-e2e")
    by_id = {e["id"]: e for e in events}
    for envelope in indexed[:2000]:
        source = by_id[envelope["event"]["metadata"]["uid"]]
        assert envelope["event"] == normalizer.normalize(source)
        assert envelope["time"] == source["effective_at"] and envelope["index"] == "openai"
        assert envelope["sourcetype"] == "ocsf:openai:audit" and envelope["host"] == "api.openai.com"
        assert envelope["fields"] == {"openai_event_type": source["type"], "openai_org_id": "org-e2e"}


def test_busy_storms_and_late_acks_lose_nothing_and_the_checkpoint_never_passes_an_unacked_event(
    tmp_path: Path,
) -> None:
    now = int(time.time())
    events = generate_events(15_000, start=now - 3 * DAY, end=now - 60, seed=42)
    store = EventStore()
    store.add_many(events)
    receiver = HecReceiver(
        [HecToken(TOKEN)],
        busy_rate=0.3,
        ack_delay_s=0.2,
        slow_ack_rate=0.1,
        slow_ack_delay_s=3.0,
        lose_rate=0.02,
    )
    violations: list[str] = []
    samples = 0
    with serve(store, Faults(latency_s=0.005)) as server, receiver as hec:
        ws = Workspace(
            tmp_path,
            server.url,
            **hec_settings(hec, SINK__ACK_TIMEOUT="4", SINK__BATCH_EVENTS="200", SINK__RETRIES="20"),
            POLL__SLICE_EVENTS="1000",
        )
        proc = ws.start("run")
        all_ids = {e["id"] for e in events}
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            watermarks = _watermarks(ws)  # read the checkpoints first, then what Splunk has indexed
            indexed = set(uids(hec))
            samples += 1
            for event in events:
                stream = "tenant" if is_tenant_scoped(event["type"]) else "default"
                if event["effective_at"] < watermarks.get(stream, 0) and event["id"] not in indexed:
                    violations.append(
                        f"{stream} watermark {watermarks[stream]} passes unindexed {event['id']}"
                    )
            if indexed >= all_ids:
                break
            time.sleep(1)
        assert terminate(proc) == 0
        busy = hec.requests.count(code=9)
        lost = hec.lost_requests
    assert violations == []
    assert set(uids(receiver)) == all_ids
    assert busy > 0 and lost > 0 and samples > 3
    assert "did not acknowledge" in ws.logs()
    print(f"\n{len(all_ids)} events; {busy} busy answers, {lost} requests lost unindexed; {samples} checks")


def test_a_poison_event_is_dead_lettered_its_batch_mates_delivered_and_replayed_once_fixed(
    tmp_path: Path,
) -> None:
    now = int(time.time())
    events = generate_events(1000, start=now - DAY, end=now - 60, seed=43)
    poison_id = events[500]["id"]
    store = EventStore()
    store.add_many(events)

    def poison(envelope: dict[str, Any]) -> int | None:
        return 6 if envelope["event"]["metadata"]["uid"] == poison_id else None

    with serve(store) as server, HecReceiver([HecToken(TOKEN)], poison=poison) as hec:
        ws = Workspace(tmp_path, server.url, **hec_settings(hec))
        result = ws.run("run", "--once")
        refused = hec.requests.count(code=6)
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        assert sorted(uids(hec)) == sorted(e["id"] for e in events if e["id"] != poison_id)
        dead = [orjson.loads(line) for line in (tmp_path / "dead-letter.ndjson").read_bytes().splitlines()]
        assert [(d["reason"], d["event"]["id"]) for d in dead] == [("rejected_by_sink", poison_id)]
        assert "code 6" in dead[0]["error"] and refused >= 1
        # Still refused: the replay keeps it.
        assert ws.run("dlq", "replay").returncode == 1
        assert len((tmp_path / "dead-letter.ndjson").read_bytes().splitlines()) == 1
        # The cause is fixed in Splunk: the replay delivers it and empties the dead-letter file.
        hec.poison = None
        replayed = ws.run("dlq", "replay")
        assert replayed.returncode == 0 and b"replayed 1 event(s); 0 still failing" in replayed.stdout
        assert sorted(uids(hec)) == sorted(e["id"] for e in events)
    assert (tmp_path / "dead-letter.ndjson").read_bytes() == b""


def test_a_wrong_token_is_one_error_line_a_metric_no_busy_loop_and_delivery_resumes_when_fixed(
    tmp_path: Path,
) -> None:
    now = int(time.time())
    events = generate_events(300, start=now - DAY, end=now - 60, seed=44)
    store = EventStore()
    store.add_many(events)
    wrong = "0badc0de-0000-4000-8000-000000000000"
    with serve(store) as server, HecReceiver([HecToken(TOKEN)]) as hec:
        ws = Workspace(
            tmp_path, server.url, **hec_settings(hec, token=wrong), POLL__INTERVAL="2", LOG__FORMAT="text"
        )
        proc = ws.start("run")
        started = time.monotonic()
        time.sleep(9)
        posts = hec.requests.count(path="/services/collector/event")
        elapsed = time.monotonic() - started
        port = int(re.search(r"metrics on http://127\.0\.0\.1:(\d+)/", ws.logs()).group(1))  # type: ignore[union-attr]
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        hec.add_token(HecToken(wrong))  # the operator fixes the token in Splunk
        assert wait_for(lambda: len(uids(hec)) == len(events), timeout=60)
        assert terminate(proc) == 0
    errors = [line for line in ws.logs().splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "CONNECTOR_SINK__TOKEN" in errors[0] and "code 4" in errors[0], errors
    assert wrong not in ws.logs()
    assert 1 <= posts <= elapsed / 2 + 1  # at most one request per poll interval
    assert re.search(r'connector_sink_config_errors_total\{sink="splunk_hec"\} [1-9]', metrics)
    assert "recovered" in ws.logs()


def _watermarks(ws: Workspace) -> dict[str, int]:
    shown = ws.run("state", "show").stdout
    return {name: int(cp["watermark"]) for name, cp in orjson.loads(shown).items()} if shown.strip() else {}
