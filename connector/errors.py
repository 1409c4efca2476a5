"""The connector's exception tree; every layer raises only these.

    ConnectorError
    ├── ConfigError                 bad or missing setting (exit code 2)
    ├── RetriableError              worth trying again later
    │   ├── SourceUnavailable       API 429/5xx, timeouts, resets, malformed bodies
    │   ├── SinkUnavailable         the sink could not durably accept a batch
    │   │   └── SinkConfigError     the sink refuses our credentials or settings (retried slowly)
    │   ├── CheckpointUnavailable   a commit could not be written (disk full, read-only)
    │   └── PaginationError         the API repeated a cursor (a loop, never a hang)
    └── FatalError                  retrying will not help; operator action needed
        ├── AuthError               401/403 from the API (wrong or under-privileged key)
        ├── TlsError                the server's certificate does not verify
        ├── ApiRequestError         400/404/422: the API rejected the request itself
        ├── CheckpointError         the checkpoint is corrupt or cannot be opened
        └── SinkError               the sink refuses the data for good

Third-party exceptions (httpx, sqlite3, OSError) are translated into these at
the module that talks to the library, with ``raise … from exc``.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Root of every error the connector raises on purpose."""


class ConfigError(ConnectorError):
    """A setting is missing or invalid."""


class RetriableError(ConnectorError):
    """A transient failure: the same work may succeed later."""


class SourceUnavailable(RetriableError):
    """The audit-log API failed in a way that retrying may fix."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SinkUnavailable(RetriableError):
    """The sink did not durably accept a batch; nothing was committed."""


class FatalError(ConnectorError):
    """Retrying will not help; an operator must act."""


class AuthError(FatalError):
    """The API rejected the Admin key (401) or its permissions (403)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class TlsError(FatalError):
    """The server's TLS certificate did not verify; retrying will not change that."""


class ApiRequestError(FatalError):
    """The API rejected the request itself (400, 404, 422)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class SinkConfigError(SinkUnavailable):
    """The sink refuses the connector's token, index or settings; nothing is committed until fixed."""


class CheckpointUnavailable(RetriableError):
    """A checkpoint commit failed; the previous checkpoint is intact and the batch is retried."""


class PaginationError(RetriableError):
    """The API returned a cursor that was already followed; the window is read again later."""


class CheckpointError(FatalError):
    """The checkpoint store cannot be read or written."""


class SinkError(FatalError):
    """The sink rejects the data and will keep rejecting it."""
