"""tune_gc: what start-up allocated is frozen out of collections; the young threshold is a setting."""
import gc

import pytest

from shared.service.gc_tuning import tune_gc
from shared.service.settings import ServiceSettings


@pytest.fixture
def restore_gc():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_startup_objects_are_frozen_and_young_collections_are_rarer(restore_gc) -> None:
    built_at_startup = [{"n": i} for i in range(1000)]
    tune_gc(20_000)
    assert gc.get_threshold() == (20_000, 50, 100)
    assert gc.get_freeze_count() >= len(built_at_startup)
    collectable = {id(o) for g in range(3) for o in gc.get_objects(generation=g)}
    assert not any(id(x) in collectable for x in built_at_startup)  # the collector no longer walks them


def test_zero_keeps_pythons_thresholds(restore_gc) -> None:
    before = gc.get_threshold()
    tune_gc(0)
    assert gc.get_threshold() == before


def test_services_default_to_a_larger_young_generation() -> None:
    assert ServiceSettings().gc_young_threshold == 20_000
