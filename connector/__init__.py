"""OpenAI audit-log → SIEM connector: poll, normalize, publish, checkpoint."""

from __future__ import annotations

__version__ = "0.1.0"
