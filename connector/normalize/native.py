"""The normalizer modules that ``setup.py`` compiles with mypyc, and what this install runs.

Compiled or not, the modules are the same source and write the same documents
(``tests/unit/test_native.py`` compares the two). This file imports nothing outside the
standard library at module level: ``setup.py`` reads ``MODULES`` from it before the
project's dependencies are installed.
"""

from __future__ import annotations

import importlib
from pathlib import Path

MODULES = (
    "connector.normalize.clean",
    "connector.normalize.memo",
    "connector.normalize.table",
    "connector.normalize.ocsf_enums",
    "connector.normalize.ocsf_actor",
    "connector.normalize.ocsf_targets",
    "connector.normalize.ocsf",
    "connector.normalize.ecs",
    "connector.normalize.raw",
)
"""Compiled as one group: these modules call each other natively."""


def _built_file(name: str) -> Path | None:
    """The extension file ``name`` was loaded from, or ``None`` when it runs as Python."""
    path = Path(importlib.import_module(name).__file__ or "")
    return None if path.suffix in (".py", ".pyc") else path


def compiled() -> list[str]:
    """The modules of ``MODULES`` that this process runs compiled."""
    return [name for name in MODULES if _built_file(name) is not None]


def summary() -> str:
    """One line for logs and benchmark reports, e.g. ``compiled (mypyc), 9 of 9 modules``."""
    count = len(compiled())
    if count == 0:
        return "pure Python"
    return f"compiled (mypyc), {count} of {len(MODULES)} modules"


def stale() -> list[str]:
    """Compiled modules whose ``.py`` source is newer than the extension built from it.

    An editable install (``pip install -e``, as ``scripts/bootstrap`` does) builds the
    extensions next to the sources, and Python prefers them: after an edit, the old
    build would run until the next bootstrap. The test suite refuses to start then.
    """
    found = []
    for name in MODULES:
        built = _built_file(name)
        if built is None:
            continue
        source = built.with_name(name.rpartition(".")[2] + ".py")
        if source.exists() and source.stat().st_mtime > built.stat().st_mtime:
            found.append(name)
    return found
