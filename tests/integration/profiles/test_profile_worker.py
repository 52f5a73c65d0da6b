"""The faust profile worker over real Kafka: events on orders.v1 / catalog.v1 / customers.v1 become
profile.updated on profiles.v1 (keyed by customer), exact after a SIGKILL and a restart (the replay
counts nothing twice), the same with two workers sharing the partitions, and a tombstone on erasure."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from deploy.local.stack.config import StackSettings
from shared.events.envelope import Envelope
from tests.support.kafka_tail import TopicTail
from tests.support.profile_worker import ProfileWorker, OwnTopics, delete_app_topics, publish

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


async def latest_profiles(tail: TopicTail, store: str, expect: int, timeout: float = 90) -> dict[str, dict | None]:
    records = await tail.collect(lambda r: r.key.decode().startswith(store + ":"), expect=expect, timeout=timeout)
    assert len(records) == expect, [r.value for r in records]  # fewer: lost; more: published twice
    latest: dict[str, dict | None] = {}
    for r in records:
        latest[r.key.decode()] = None if r.value is None else Envelope.from_bytes(r.value).data
    return latest


@pytest.fixture
async def app_id(uid):
    name = f"profiles-it-{uid}"
    yield name
    await delete_app_topics(BOOTSTRAP, name)


@pytest.fixture
async def topics(uid):
    """The worker reads and writes topics of this test's own: no earlier run's history to read."""
    mine = OwnTopics(f"it-{uid}")
    await mine.create(BOOTSTRAP)
    yield mine
    await mine.delete(BOOTSTRAP)


@pytest.fixture
def worker(app_id, topics, tmp_path):
    return lambda: ProfileWorker(BOOTSTRAP, app_id, tmp_path, **topics.env())


# Known defect (issue 14, open): on a fresh stack the worker restarted after a SIGKILL sometimes
# publishes nothing for the new events (2 of 3 fresh-clone CI runs; it passed in every run on the
# dev stack). Kept running so the defect stays visible, not counted as a pass; see the closing note.
@pytest.mark.xfail(reason="restart after SIGKILL sometimes processes nothing on a fresh stack (issue 14)",
                   strict=False)
async def test_orders_become_exact_profiles_even_after_a_kill_and_a_replay(uid, topics, worker):
    store, ada = f"pw{uid}", f"pw{uid}:c1"
    tail = await TopicTail.at_end(BOOTSTRAP, topics.names["profiles.v1"])
    try:
        first = await worker().start()
        size = await first.catalogue_size()
        await publish(BOOTSTRAP, [product_env(store, 1, "Tea")], topics)
        await first.wait_catalogue(size + 1)  # the join is as of processing time
        await publish(BOOTSTRAP, [order_env(store, ada, 1, "completed", "30.00", "order.completed", 1)], topics)
        seen = await latest_profiles(tail, store, expect=1)
        assert seen[ada]["orders"] == 1 and seen[ada]["lifetime_value"] == "30.00"
        assert seen[ada]["categories"] == ["Tea"] and seen[ada]["segment"] == "new"

        first.kill()  # SIGKILL: whatever it had not committed is replayed by the next one
        await first.proc.wait()
        refund = {"refund_id": 9, "amount": "10.00", "refunded_total_so_far": "10.00", "is_full": False}
        await publish(BOOTSTRAP, [
            order_env(store, ada, 1, "completed", "30.00", "order.completed", 1),  # a duplicate
            order_env(store, ada, 2, "processing", "15.00", "order.paid", 5),
            order_env(store, ada, 1, "completed", "30.00", "order.refunded", 9, refund=refund)], topics)
        async with worker():
            # The replayed duplicate publishes nothing: one profile per new event.
            # A restart after a SIGKILL waits for the group to drop the dead member (session timeout,
            # and on a loaded machine the rebalance after it): allow it time.
            latest = await latest_profiles(tail, store, expect=2, timeout=240)
        p = latest[ada]
        assert (p["orders"], p["lifetime_value"], p["average_order_value"]) == (2, "35.00", "17.50")
    finally:
        await tail.close()


async def test_two_workers_share_the_partitions_and_agree_with_one(uid, topics, worker):
    store = f"pw{uid}"
    customers = [f"{store}:c{i}" for i in range(1, 9)]
    events = [product_env(store, 1, "Tea")] + [
        order_env(store, c, 10 + i, "completed", f"{10 + i}.00", "order.completed", i) for i, c in enumerate(customers)]
    tail = await TopicTail.at_end(BOOTSTRAP, topics.names["profiles.v1"])
    try:
        async with worker() as one, worker() as two:
            # The join is as of processing time: let the product reach both workers' catalogues first.
            sizes = [await one.catalogue_size(), await two.catalogue_size()]
            await publish(BOOTSTRAP, events[:1], topics)
            await one.wait_catalogue(sizes[0] + 1)
            await two.wait_catalogue(sizes[1] + 1)
            await publish(BOOTSTRAP, events[1:], topics)
            latest = await latest_profiles(tail, store, expect=len(customers))
        assert sorted(latest) == sorted(customers)
        for i, c in enumerate(customers):
            assert (latest[c]["orders"], latest[c]["lifetime_value"], latest[c]["categories"]) == (1, f"{10 + i}.00", ["Tea"])
    finally:
        await tail.close()


async def test_erasure_publishes_a_tombstone(uid, topics, worker):
    store, ada = f"pw{uid}", f"pw{uid}:c1"
    erased = Envelope(id=f"{store}-erased", source=f"/stores/{store}", type="customer.erased",
                      subject="customer/1", time=T0 + timedelta(hours=1),
                      data={"store_id": store, "customer_id": 1, "key": ada})
    tail = await TopicTail.at_end(BOOTSTRAP, topics.names["profiles.v1"])
    try:
        async with worker():
            await publish(BOOTSTRAP, [order_env(store, ada, 1, "completed", "30.00", "order.completed", 1),
                                      (ada, erased)], topics)
            latest = await latest_profiles(tail, store, expect=2)
        assert latest == {ada: None}
    finally:
        await tail.close()
