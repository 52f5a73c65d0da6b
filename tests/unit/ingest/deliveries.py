"""Helpers for ingest's pipeline and reconcile unit tests: a registered store, deliveries of real
payload examples, and Prometheus figures read through the public registry."""
from __future__ import annotations

import orjson
from prometheus_client import REGISTRY

from services.ingest.domain.delivery import Delivery
from services.ingest.domain.stores import Store


def store(store_id: str = "s1", **over) -> Store:
    fields = dict(store_id=store_id, source_url=f"https://{store_id}.example/", webhook_secret="w" * 20,
                  previous_secret=None, previous_secret_until=None, rest_url=None, consumer_key=None,
                  consumer_secret=None, timezone="UTC", locale=None)
    return Store(**{**fields, **over})


def delivery(body: dict, topic: str = "order.updated", *, at: Store | None = None, **kw) -> Delivery:
    return Delivery(store=at or store(), topic=topic, payload=body, body=orjson.dumps(body), **kw)


def figure(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0
