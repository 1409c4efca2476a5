"""docs/deploy.md's checkpoint move, SQLite → Kafka, done with the commands the page gives.

``connector state show`` on the old (SQLite) checkpoint, then ``connector state reset --to <watermark_iso>
--stream <stream>`` against the new (Kafka) one, then ``state show`` there says the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

CONNECTOR = Path(sys.executable).parent / "connector"


def _connector(env: dict[str, str], *args: str) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    result = subprocess.run(
        [str(CONNECTOR), *args], env={**base, **env}, capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, f"connector {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_moving_the_checkpoint_from_sqlite_to_kafka_keeps_the_watermarks(
    kafka_broker: Any, tmp_path: Path
) -> None:
    old = {"CONNECTOR_CHECKPOINT__PATH": str(tmp_path / "checkpoint.db")}
    # the old deployment's position
    _connector(old, "state", "reset", "--to", "2026-01-02T03:04:05Z", "--stream", "default")
    _connector(old, "state", "reset", "--to", "2026-01-01T00:00:00Z", "--stream", "tenant")

    # step 2: read it
    shown = json.loads(_connector(old, "state", "show"))
    assert set(shown) == {"default", "tenant"}

    # step 3: write it into the Kafka checkpoint topic with the new deployment's settings
    topic = kafka_broker.unique_topic("checkpoints", compacted=True)
    new = {
        "CONNECTOR_SINK__TYPE": "kafka",
        "CONNECTOR_SINK__BOOTSTRAP_SERVERS": kafka_broker.bootstrap,
        "CONNECTOR_CHECKPOINT__BACKEND": "kafka",
        "CONNECTOR_CHECKPOINT__TOPIC": topic,
        "CONNECTOR_CHECKPOINT__NAMESPACE": f"deploy-test-{uuid.uuid4().hex[:8]}",
    }
    for stream, checkpoint in shown.items():
        _connector(new, "state", "reset", "--to", checkpoint["watermark_iso"], "--stream", stream)

    moved = json.loads(_connector(new, "state", "show"))
    assert {s: c["watermark"] for s, c in moved.items()} == {s: c["watermark"] for s, c in shown.items()}
