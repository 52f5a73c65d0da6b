"""Fixtures by what tests need. Unit tests need nothing. Integration and e2e tests need the real
local stack (Kafka, PostgreSQL, SMTP sink): if it isn't running, the session starts it with the
same code as `aftercart stack up` and stops what it started at the end."""
from __future__ import annotations

import uuid

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        path = str(item.fspath)
        if "/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/e2e/" in path:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack():
    from deploy.stack import runner
    from deploy.stack.config import StackSettings

    started = runner.up(wait=True)
    yield StackSettings()
    if started:
        runner.down(only=started)


@pytest.fixture
def uid() -> str:
    """A random id so tests never collide with each other or with earlier runs."""
    return uuid.uuid4().hex[:10]
