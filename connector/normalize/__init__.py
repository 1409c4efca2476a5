"""Normalizers: turn one raw audit-log event into the configured output schema.

A normalizer is a plain callable object with one method. It never raises for
an event that has at least an ``id``, ``type`` and ``effective_at``; anything
unknown is mapped generically (see ``docs/mapping.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Normalizer(Protocol):
    """Maps one raw audit-log event (plain JSON dict) to one output document."""

    format: str

    def normalize(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Return the output document for ``event``.

        Nested parts of the document may be shared with other documents of the same
        normalizer (recurring actors and projects are mapped once): treat them as
        read-only, and copy a document before changing it.
        """
        ...


def make_normalizer(fmt: str, *, org_id: str | None = None) -> Normalizer:
    """Build the normalizer for output format ``fmt`` (``ocsf``, ``ecs`` or ``raw``)."""
    if fmt == "ocsf":
        from connector.normalize.ocsf import OcsfNormalizer

        return OcsfNormalizer(org_id=org_id)
    if fmt == "ecs":
        from connector.normalize.ecs import EcsNormalizer

        return EcsNormalizer(org_id=org_id)
    if fmt == "raw":
        from connector.normalize.raw import RawNormalizer

        return RawNormalizer()
    raise ValueError(f"unknown output format {fmt!r}")
