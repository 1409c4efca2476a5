"""The chart tests' tools: helm and the Prometheus Operator CRDs, from scripts/install-deploy-tools."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Tools:
    helm: Path
    helm_version: str
    crds: Path | None
    env: dict[str, str]

    def helm_run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.helm), *args], capture_output=True, text=True, env=self.env, check=False, timeout=120
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"helm {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )
        return result


@pytest.fixture(scope="session")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Tools:
    """Runs the installer (fast when cached; the first run builds helm, a few minutes)."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "install-deploy-tools")],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    assert result.returncode == 0, f"scripts/install-deploy-tools failed:\n{result.stdout}{result.stderr}"
    found = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    home = tmp_path_factory.mktemp("helm-home")
    env = {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    return Tools(
        helm=Path(found["HELM"]),
        helm_version=found.get("HELM_VERSION", "?"),
        crds=Path(found["CRDS"]) if found.get("CRDS") else None,
        env=env,
    )
