"""Fixtures of the fault-injection suite: loopback mounts that are always undone, and a secret check.

Every test module of this folder sets ``pytestmark = pytest.mark.faults`` (``pytest -m faults``).
The storage cases need ``mount``: they run it directly as root, else through ``sudo -n``; without
either they are skipped, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def no_secret_in_any_output() -> Iterator[None]:
    """After every fault test: no configured secret in any log line or output of its connector runs."""
    from tests.e2e.harness import no_secret_leaks

    yield from no_secret_leaks()


class Mounts:
    """Mounts made by one test; ``undo`` unmounts them all, newest first."""

    def __init__(self) -> None:
        self._prefix = self._privilege()
        self._mounted: list[Path] = []

    @staticmethod
    def _privilege() -> list[str]:
        if os.geteuid() == 0:
            return []
        sudo = shutil.which("sudo")
        if sudo and subprocess.run([sudo, "-n", "true"], capture_output=True, check=False).returncode == 0:
            return [sudo, "-n"]
        message = "the storage fault cases need root (or passwordless sudo) to mount a tmpfs"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self._prefix, *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {result.stderr.strip()}")

    def tmpfs(self, path: Path, *, size: str) -> Path:
        """A fresh tmpfs of ``size`` (e.g. ``4m``) on ``path``, writable by everyone."""
        path.mkdir(parents=True, exist_ok=True)
        self._run("mount", "-t", "tmpfs", "-o", f"size={size},mode=1777", "tmpfs", str(path))
        self._mounted.append(path)
        return path

    def read_only(self, path: Path) -> Path:
        """``path`` bind-mounted on itself, read-only (root cannot write there either)."""
        self._run("mount", "--bind", str(path), str(path))
        self._mounted.append(path)
        self._run("mount", "-o", "remount,ro,bind", str(path))
        return path

    def unmount(self, path: Path) -> None:
        """Undo the newest mount on ``path``."""
        self._run("umount", str(path))
        self._mounted.reverse()
        self._mounted.remove(path)
        self._mounted.reverse()

    def undo(self) -> None:
        errors: list[str] = []
        while self._mounted:
            path = self._mounted.pop()
            result = subprocess.run(
                [*self._prefix, "umount", str(path)], capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                lazy = subprocess.run(
                    [*self._prefix, "umount", "-l", str(path)], capture_output=True, text=True, check=False
                )
                if lazy.returncode != 0:
                    errors.append(f"{path}: {result.stderr.strip()}")
        assert not errors, f"could not unmount: {errors}"


@pytest.fixture
def mounts() -> Iterator[Mounts]:
    """Make mounts in a test; every one is unmounted when the test ends, whatever happened."""
    made = Mounts()
    try:
        yield made
    finally:
        made.undo()
