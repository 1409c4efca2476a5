"""Fixtures for the monitoring tests: promtool and prometheus, installed by scripts/install-prometheus."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def prometheus_tools() -> dict[str, str]:
    """Paths of ``promtool`` and ``prometheus``; installs Debian's package when they are missing."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "install-prometheus")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, f"scripts/install-prometheus failed:\n{result.stdout}\n{result.stderr}"
    tools = {name: shutil.which(name) for name in ("promtool", "prometheus")}
    missing = [name for name, path in tools.items() if path is None]
    assert not missing, f"scripts/install-prometheus left {missing} off PATH"
    return {name: str(path) for name, path in tools.items()}


@pytest.fixture(scope="session")
def promtool(prometheus_tools: dict[str, str]) -> str:
    return prometheus_tools["promtool"]
