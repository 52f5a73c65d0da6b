"""Wires the profile worker: settings → the faust app (entrypoints/worker.py) with its tables, the
handlers and a unit of work per event. Nothing connects until the worker starts."""
from __future__ import annotations

from services.profiles.config import ProfilesSettings, SegmentThresholds
from services.profiles.domain.segments import Thresholds
from shared.events.registry import CATALOG, CUSTOMERS, ORDERS

# Source topics (created by the stack / deploy before the worker starts, as convention 8 says).
TOPICS = [ORDERS.name, CUSTOMERS.name, CATALOG.name]


def thresholds_for(settings: ProfilesSettings):
    def to_domain(t: SegmentThresholds) -> Thresholds:
        return Thresholds(**t.model_dump())

    default = to_domain(settings.thresholds)
    per_store = {store: to_domain(t) for store, t in settings.store_thresholds.items()}
    return lambda store_id: per_store.get(store_id, default)
