"""The faust profile worker over real Kafka: events on orders.v1 / catalog.v1 / customers.v1 become
profile.updated on profiles.v1 (keyed by customer), exact after a SIGKILL and a restart (the replay
counts nothing twice), the same with two workers sharing the partitions, and a tombstone on erasure."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from deploy.local.stack.config import StackSettings
from shared.events.envelope import Envelope
from shared.events.registry import PROFILES
from tests.support.kafka_tail import TopicTail
from tests.support.profile_worker import ProfileWorker, delete_app_topics, publish

S = StackSettings()
BOOTSTRAP = S.bootstrap_servers()
T0 = datetime(2026, 11, 1, 9, tzinfo=timezone.utc)
pytestmark = pytest.mark.usefixtures("stack")


def order_env(store, customer, order_id, status, total, etype, minutes, items=((1, 1),), **extra):
    data = {"store_id": store, "order_id": order_id, "order_number": str(order_id), "status": status,
            "customer": {"key": customer, "id": 1}, "currency": "EUR", "total": total,
            "subtotal_after_discounts": total, "tax": "0", "shipping": "0", "discount": "0",
            "line_items": [{"line_id": i, "product_id": p, "name": "x", "quantity": q, "total": total}
                           for i, (p, q) in enumerate(items)],
            "dates": {"created": T0.isoformat(), "paid": T0.isoformat()}, **extra}
    return customer, Envelope(id=f"{store}-{order_id}-{etype}-{minutes}", source=f"/stores/{store}", type=etype,
                              subject=f"order/{order_id}", time=T0 + timedelta(minutes=minutes), data=data)


def product_env(store, pid, category):
    data = {"store_id": store, "product_id": pid, "type": "simple", "name": "x", "status": "publish",
            "categories": [{"id": 1, "name": category, "slug": category.lower()}]}
    return f"{store}:p{pid}", Envelope(id=f"{store}-p{pid}", source=f"/stores/{store}", type="product.upserted",
                                       subject=f"product/{pid}", time=T0, data=data)


async def latest_profiles(tail: TopicTail, store: str, expect: int) -> dict[str, dict | None]:
    records = await tail.collect(lambda r: r.key.decode().startswith(store + ":"), expect=expect, timeout=90)
    latest: dict[str, dict | None] = {}
    for r in records:
        latest[r.key.decode()] = None if r.value is None else Envelope.from_bytes(r.value).data
    return latest


@pytest.fixture
async def app_id(uid):
    name = f"profiles-it-{uid}"
    yield name
    await delete_app_topics(BOOTSTRAP, name)


async def test_orders_become_exact_profiles_even_after_a_kill_and_a_replay(uid, app_id, tmp_path):
    store, ada = f"pw{uid}", f"pw{uid}:c1"
    tail = await TopicTail.at_end(BOOTSTRAP, PROFILES.name)
    try:
        worker = await ProfileWorker(BOOTSTRAP, app_id, tmp_path).start()
        size = await worker.catalogue_size()
        await publish(BOOTSTRAP, [product_env(store, 1, "Tea")])
        await worker.wait_catalogue(size + 1)  # the join is as of processing time
        await publish(BOOTSTRAP, [order_env(store, ada, 1, "completed", "30.00", "order.completed", 1)])
        first = await latest_profiles(tail, store, expect=1)
        assert first[ada]["orders"] == 1 and first[ada]["lifetime_value"] == "30.00"
        assert first[ada]["categories"] == ["Tea"] and first[ada]["segment"] == "new"

        worker.kill()  # SIGKILL: whatever it had not committed is replayed by the next one
        await worker.proc.wait()
        refund = {"refund_id": 9, "amount": "10.00", "refunded_total_so_far": "10.00", "is_full": False}
        await publish(BOOTSTRAP, [
            order_env(store, ada, 1, "completed", "30.00", "order.completed", 1),  # a duplicate
            order_env(store, ada, 2, "processing", "15.00", "order.paid", 5),
            order_env(store, ada, 1, "completed", "30.00", "order.refunded", 9, refund=refund)])
        async with ProfileWorker(BOOTSTRAP, app_id, tmp_path):
            latest = await latest_profiles(tail, store, expect=3)
        p = latest[ada]
        assert (p["orders"], p["lifetime_value"], p["average_order_value"]) == (2, "35.00", "17.50")
    finally:
        await tail.close()


async def test_two_workers_share_the_partitions_and_agree_with_one(uid, app_id, tmp_path):
    store = f"pw{uid}"
    customers = [f"{store}:c{i}" for i in range(1, 9)]
    events = [product_env(store, 1, "Tea")] + [
        order_env(store, c, 10 + i, "completed", f"{10 + i}.00", "order.completed", i) for i, c in enumerate(customers)]
    tail = await TopicTail.at_end(BOOTSTRAP, PROFILES.name)
    try:
        async with ProfileWorker(BOOTSTRAP, app_id, tmp_path) as one, ProfileWorker(BOOTSTRAP, app_id, tmp_path) as two:
            # The join is as of processing time: let the product reach both workers' catalogues first.
            sizes = [await one.catalogue_size(), await two.catalogue_size()]
            await publish(BOOTSTRAP, events[:1])
            await one.wait_catalogue(sizes[0] + 1)
            await two.wait_catalogue(sizes[1] + 1)
            await publish(BOOTSTRAP, events[1:])
            latest = await latest_profiles(tail, store, expect=len(customers))
        assert sorted(latest) == sorted(customers)
        for i, c in enumerate(customers):
            assert (latest[c]["orders"], latest[c]["lifetime_value"], latest[c]["categories"]) == (1, f"{10 + i}.00", ["Tea"])
    finally:
        await tail.close()


async def test_erasure_publishes_a_tombstone(uid, app_id, tmp_path):
    store, ada = f"pw{uid}", f"pw{uid}:c1"
    erased = Envelope(id=f"{store}-erased", source=f"/stores/{store}", type="customer.erased",
                      subject="customer/1", time=T0 + timedelta(hours=1),
                      data={"store_id": store, "customer_id": 1, "key": ada})
    tail = await TopicTail.at_end(BOOTSTRAP, PROFILES.name)
    try:
        async with ProfileWorker(BOOTSTRAP, app_id, tmp_path):
            await publish(BOOTSTRAP, [order_env(store, ada, 1, "completed", "30.00", "order.completed", 1),
                                      (ada, erased)])
            latest = await latest_profiles(tail, store, expect=2)
        assert latest == {ada: None}
    finally:
        await tail.close()
