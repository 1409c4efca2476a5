"""A short soak in every test run (scripts/soak.py runs the 10-minute one): faults, late events, SIGKILLs."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from soak import soak


def test_a_short_soak_with_kills_loses_nothing() -> None:
    report = soak(minutes=1.5, kills=4, seed=7)
    print("\n" + report.markdown())
    assert report.kills == 4
    assert report.lost == 0 and report.delivered == report.events_in > 20_000
