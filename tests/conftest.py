"""Fixtures by what tests need. Unit tests need nothing. Integration and e2e tests need the real
local stack (Kafka, PostgreSQL, SMTP sink): if it isn't running, the session starts it with the
same code as `aftercart stack up` and stops what it started at the end."""
from __future__ import annotations

import os
import uuid

import pytest

# Development mode: the services accept their built-in API tokens (shared/service/settings.py).
# Set here, before any settings are built, so service processes the tests start inherit it too.
os.environ.setdefault("AFTERCART_ENV", "development")


def pytest_collection_modifyitems(items):
    for item in items:
        path = str(item.fspath)
        if "/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/e2e/" in path:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack():
    from deploy.local.stack import procs, runner
    from deploy.local.stack.config import StackSettings

    settings = StackSettings()
    running_before = {row["name"] for row in runner.status(settings, quiet=True) if row["pid"]}
    runner.up(wait=True, settings=settings)
    yield settings
    for part in reversed(runner.PARTS):  # stop only what this session started
        if part.name not in running_before:
            procs.stop(settings, part.component(settings))


@pytest.fixture
def uid() -> str:
    """A random id so tests never collide with each other or with earlier runs."""
    return uuid.uuid4().hex[:10]
