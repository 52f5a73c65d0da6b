"""The store simulator tests' fixture: a deterministic store (helpers: tests/support/storesim.py)."""
from __future__ import annotations

import pytest

from deploy.local.storesim import SimClock, Store


@pytest.fixture
def store() -> Store:
    return Store("https://demo-store.example/", clock=SimClock())
