"""GroupCommit (pipeline/group_commit.py) on in-memory lanes: deliveries arriving while a batch
commits share the next one, each hears only its own answer, and a storage failure reaches every
delivery of its batch. (Lanes, ordering per resource and real connections: the integration tests.)"""
from __future__ import annotations

import asyncio

import pytest

from services.ingest.domain.delivery import InvalidPayload, Result, ValueOutOfRange
from services.ingest.metrics import ingest_metrics
from services.ingest.pipeline import GroupCommit
from tests.support.fakes.ingest import MemoryDeliveryBatch, MemoryLaneConnections
from tests.support.ingest_payloads import order_state
from tests.unit.ingest.deliveries import delivery, figure, store


async def _until(predicate, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0)


def _commit(batch: MemoryDeliveryBatch, **kw) -> tuple[GroupCommit, MemoryLaneConnections, list]:
    lanes, woken = MemoryLaneConnections(batch), []
    return GroupCommit(lanes, ingest_metrics(), on_events=lambda: woken.append(1), **kw), lanes, woken


async def test_deliveries_arriving_while_a_batch_commits_share_the_next_one():
    batch = MemoryDeliveryBatch()
    batch.gate = asyncio.Event()  # the first write waits until the test lets it go
    commit, _, woken = _commit(batch)
    first = asyncio.create_task(commit.submit(delivery(order_state("processing", 1, order_id=1), "order.created")))
    await _until(lambda: len(batch.reads) == 1)
    later = [asyncio.create_task(commit.submit(delivery(order_state("processing", 1, order_id=n), "order.created")))
             for n in (2, 3, 4)]
    await _until(lambda: commit.queued == 3)
    single = figure("ingest_commit_batch_deliveries_bucket", le="1.0")
    batch.gate.set()
    assert await first == Result("applied", 2)
    assert await asyncio.gather(*later) == [Result("applied", 2)] * 3
    assert batch.writes == [1, 3]
    assert figure("ingest_commit_batch_deliveries_bucket", le="1.0") == single + 1  # the lone first one
    assert woken == [1, 1]  # the relay is woken after each commit that added events


async def test_each_delivery_hears_its_own_answer_and_a_refused_one_raises_for_its_sender_only():
    batch = MemoryDeliveryBatch()
    batch.gate = asyncio.Event()
    commit, _, _ = _commit(batch)
    broken = order_state("processing", 1, order_id=2)
    broken["line_items"] = [{"id": "x"}]
    blocker = asyncio.create_task(commit.submit(delivery(order_state("pending", 1, order_id=9), "order.created")))
    await _until(lambda: len(batch.reads) == 1)
    good = asyncio.create_task(commit.submit(delivery(order_state("processing", 1, order_id=1), "order.created")))
    bad = asyncio.create_task(commit.submit(delivery(broken, "order.created")))
    dup = asyncio.create_task(commit.submit(delivery(order_state("processing", 1, order_id=1), "order.created")))
    await _until(lambda: commit.queued == 3)
    batch.gate.set()
    assert await blocker == Result("applied", 1)
    assert await good == Result("applied", 2) and await dup == Result("duplicate", 0)
    with pytest.raises(InvalidPayload):
        await bad
    assert batch.writes == [1, 2]


async def test_a_10e30_quantity_is_refused_for_its_sender_and_its_batch_mates_are_committed():
    batch = MemoryDeliveryBatch()
    batch.gate = asyncio.Event()
    commit, _, _ = _commit(batch)
    blocker = asyncio.create_task(commit.submit(delivery(order_state("pending", 1, order_id=9), "order.created")))
    await _until(lambda: len(batch.reads) == 1)
    absurd = order_state("processing", 1, order_id=5)
    absurd["line_items"][0]["quantity"] = 1e30
    bodies = [absurd if n == 4 else order_state("processing", 1, order_id=10 + n) for n in range(8)]
    tasks = [asyncio.create_task(commit.submit(delivery(body, "order.created", at=store(f"s{n}"))))
             for n, body in enumerate(bodies)]  # eight stores
    await _until(lambda: commit.queued == 8)
    batch.gate.set()
    assert await blocker == Result("applied", 1)
    answers = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(answers[4], ValueOutOfRange) and answers[4].status == 400
    assert [a for n, a in enumerate(answers) if n != 4] == [Result("applied", 2)] * 7
    assert batch.writes == [1, 7]


class _Down(MemoryDeliveryBatch):
    """Storage gone: every read fails as a dropped connection does."""

    async def read(self, keys):
        raise ConnectionResetError("server closed the connection")


async def test_storage_lost_reaches_every_delivery_of_the_batch_and_the_lane_hears_it():
    commit, lanes, woken = _commit(_Down())
    answers = await asyncio.gather(*(commit.submit(delivery(order_state("pending", 1, order_id=n), "order.created"))
                                     for n in (1, 2)), return_exceptions=True)
    assert [type(a) for a in answers] == [ConnectionResetError, ConnectionResetError]
    assert [type(e) for e in lanes.failures] == [ConnectionResetError]  # one batch, one failure
    assert woken == []


async def test_a_commit_that_adds_no_event_does_not_wake_the_relay_and_close_hands_the_lanes_back():
    batch = MemoryDeliveryBatch()
    commit, lanes, woken = _commit(batch)
    assert await commit.submit(delivery({"id": 5}, "coupon.created")) == Result("ignored_topic", 0)
    assert woken == []
    await commit.close()
    assert lanes.closed
