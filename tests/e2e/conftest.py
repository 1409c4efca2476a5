"""Every test here runs the connector as a separate process; mark them so they can be selected."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def no_secret_in_any_output() -> Iterator[None]:
    """After every e2e test: no configured secret in any log line or output of its connector runs."""
    from tests.e2e.harness import no_secret_leaks

    yield from no_secret_leaks()
