"""TLS settings for every HTTPS client of the connector: verification on, a private CA when configured."""

from __future__ import annotations

import ssl
from pathlib import Path


def verify_setting(ca_bundle: Path | None, verify: bool) -> ssl.SSLContext | bool:
    """What httpx's ``verify=`` gets: a context trusting ``ca_bundle``, or the system trust store."""
    if ca_bundle is not None:
        return ssl.create_default_context(cafile=str(ca_bundle))
    return verify


def is_tls_verification_failure(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a certificate verification failure."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
