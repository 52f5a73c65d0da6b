"""Helpers for ingest's domain tests: real WooCommerce payloads, order states built from them,
and a snapshot chain that feeds deliveries through a derive function the way the handler does."""
from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path

from services.ingest.domain import Derivation, StoreContext
from shared.events.envelope import Outgoing
from shared.events.registry import validate_data
from shared.events.registry import TOPIC_OF_TYPE

REPO = Path(__file__).resolve().parents[2]
PAYLOAD_DIRS = (REPO / "tests" / "fixtures" / "woocommerce", REPO.parent / "shared" / "woocommerce" / "payloads")
T0 = datetime(2026, 3, 2, 10, 0, 0, tzinfo=timezone.utc)


@cache
def _raw(name: str) -> str:
    for base in PAYLOAD_DIRS:
        if (base / name).is_file():
            return (base / name).read_text()
    raise FileNotFoundError(f"{name} in none of {PAYLOAD_DIRS}")


def payload(name: str) -> dict:
    """A fresh copy of a real payload example (tests may mutate it)."""
    return json.loads(_raw(name))


def wc(moment: datetime) -> str:
    """A moment as WooCommerce writes `*_gmt` fields: UTC, no offset."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def order_state(status: str, minute: int, *, order_id: int = 727, paid_minute: int | None = None,
                completed_minute: int | None = None, refunds: list[tuple[int, str]] = (),
                tracking: list[str] = (), email: str = "john.doe@example.com", customer_id: int = 0,
                base: str = "order.v3.docs.json", **over) -> dict:
    """The docs' order at T0+minute in `status` (refunds as (id, amount), newest listed first
    as WooCommerce does; tracking numbers as WooCommerce Shipment Tracking items)."""
    o = copy.deepcopy(payload(base))
    at = T0 + timedelta(minutes=minute)
    o.update(id=order_id, number=str(order_id), status=status, customer_id=customer_id,
             date_created_gmt=wc(T0), date_modified_gmt=wc(at))
    o["billing"]["email"] = email
    if paid_minute is None and status in ("processing", "completed"):
        paid_minute = minute
    o["date_paid_gmt"] = wc(T0 + timedelta(minutes=paid_minute)) if paid_minute is not None else None
    if completed_minute is None and status == "completed":
        completed_minute = minute
    o["date_completed_gmt"] = wc(T0 + timedelta(minutes=completed_minute)) if completed_minute is not None else None
    o["refunds"] = [{"id": rid, "reason": "", "total": f"-{amount}"} for rid, amount in sorted(refunds, reverse=True)]
    if tracking:
        o["meta_data"] = [*o["meta_data"], {"id": 9000, "key": "_wc_shipment_tracking_items", "value": [
            {"tracking_provider": "ups", "custom_tracking_provider": "", "custom_tracking_link": "",
             "tracking_number": n, "date_shipped": str(int(at.timestamp())), "tracking_id": f"t{n}"}
            for n in tracking]}]
    o.update(over)
    return o


Derive = Callable[..., Derivation]


@dataclass
class Chain:
    """Feeds deliveries through `derive`, keeping the snapshot the way the handler stores it."""
    derive: Derive
    store: StoreContext = field(default_factory=lambda: StoreContext(store_id="s1"))
    snapshot: dict | None = None
    events: list[Outgoing] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)

    def deliver(self, body: dict, topic: str, **kw) -> Derivation:
        # Round-trip the snapshot through JSON: it is stored as jsonb, so it must survive that.
        previous = json.loads(json.dumps(self.snapshot)) if self.snapshot is not None else None
        result = self.derive(self.store, previous, copy.deepcopy(body), topic, **kw)
        if result.snapshot is not None:
            self.snapshot = result.snapshot
        self.events += result.events
        self.outcomes.append(result.outcome)
        return result

    def deliver_all(self, deliveries: Iterable[tuple[dict, str]]) -> None:
        for body, topic in deliveries:
            self.deliver(body, topic)

    @property
    def types(self) -> list[str]:
        return [e.envelope.type for e in self.events]

    def of_type(self, event_type: str) -> list[Outgoing]:
        return [e for e in self.events if e.envelope.type == event_type]


def types(result: Derivation) -> list[str]:
    return [e.envelope.type for e in result.events]


def assert_valid(events: Iterable[Outgoing]) -> None:
    """Every event: on its home topic, data valid against its registered model and unchanged by a
    round trip through it, a UTC time, envelope version 1."""
    for out in events:
        env = out.envelope
        assert out.topic == TOPIC_OF_TYPE[env.type], env.type
        assert env.version == 1 and env.time.utcoffset() == timedelta(0)
        assert env.source == "/stores/s1" or env.source.startswith("/stores/")
        model = validate_data(env.type, env.version, env.data)
        assert model.model_dump(mode="json", by_alias=True) == env.data
        json.dumps(env.data)  # plain JSON all the way down
