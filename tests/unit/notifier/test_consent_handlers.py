"""The consent side of the handlers, in memory: a customer's consent from their customers.v1 meta
(under the store's key), and customer.erased — the address and name gone from every row, the
counts kept, the address hash suppressed, a later event for the address neither stored nor sent."""
from __future__ import annotations

from datetime import datetime, timezone

from services.notifier import handlers
from services.notifier.domain.consent import ERASED, address_hash
from shared.events.envelope import Envelope, Event, event_id
from shared.events.registry import model_for
from tests.support.fakes.notifier import memory_unit_of_work
from tests.unit.notifier.orders import order_data, order_event

STORE, KEY, TO = "s1", "s1:c1", "zed@example.com"


def _customer_event(event_type: str, data: dict, salt: str = "") -> Event:
    env = Envelope(id=event_id(STORE, "customer", 1, event_type, salt), source=f"/stores/{STORE}", type=event_type,
                   subject=f"customer/{KEY}", time=datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc), data=data)
    return Event.parse(env, model_for(event_type, 1))


def _profile(**extra) -> dict:
    return {"store_id": STORE, "customer_id": 1, "key": KEY, "email": TO, "first_name": "Zed", "last_name": "Quux",
            "role": "customer", **extra}


async def test_consent_from_the_customers_meta_under_the_stores_key():
    tx = memory_unit_of_work()
    tx.settings.stores[STORE] = {"consent_meta_key": "marketing_consent"}
    await handlers.HANDLERS["customer.registered"](
        _customer_event("customer.registered", _profile(consent_meta={"marketing_consent": "yes"})), tx)
    record = await tx.consent.get(KEY)
    assert (record.marketing, record.source) == (True, "meta")
    assert tx.customers.rows[KEY].consent is True  # the customer record shows it too
    # Another key the store doesn't name says nothing.
    await handlers.HANDLERS["customer.updated"](
        _customer_event("customer.updated", _profile(consent_meta={"newsletter": "no"}), salt="2"), tx)
    assert (await tx.consent.get(KEY)).marketing is True


async def test_erasure_leaves_no_address_or_name_and_a_later_event_brings_none_back():
    tx = memory_unit_of_work()
    for n in (1, 2):
        await handlers.HANDLERS["order.placed"](order_event("order.placed", order_data(STORE, n, email=TO,
                                                                                       first_name="Zed")), tx)
    rows = len(tx.messages.rows)
    assert rows == 2 and any(TO in r.to_address for r in tx.messages.rows.values())

    await handlers.HANDLERS["customer.erased"](
        _customer_event("customer.erased", {"store_id": STORE, "customer_id": 1, "key": KEY}), tx)
    text = repr(vars(tx.messages)) + repr(tx.customers.rows) + repr(tx.orders.rows) + repr(tx.consent.records)
    assert TO not in text and "Zed" not in text
    assert len(tx.messages.rows) == rows  # the counts stay
    assert await tx.suppressions.reasons(STORE, address_hash(TO)) == {ERASED}

    await handlers.HANDLERS["order.placed"](order_event("order.placed", order_data(STORE, 3, email=TO,
                                                                                   first_name="Zed")), tx)
    text = repr(vars(tx.messages)) + repr(tx.customers.rows) + repr(tx.orders.rows)
    assert TO not in text and "Zed" not in text and len(tx.messages.rows) == rows
