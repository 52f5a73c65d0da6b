"""Batched, concurrent sending (sending.send_batch) in memory: a round claims a batch, delivers it
concurrently within `send_concurrency`, group-commits the outcomes; claimed rows are leased so a
second sender never takes them while they are on their way, and fall due again if the sender dies;
gating's decisions (Defer / Suppress / Cancel) are recorded in the claiming transaction; the
metrics count outcomes by flow and channel and time the send from the cause event."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from services.notifier.config import NotifierSettings
from services.notifier.domain.delivery import SEND, Cancel, Defer, Suppress
from services.notifier.domain.messages import Draft
from services.notifier.sending import send_batch
from shared.testing import Clock, FakeMailer, FakeOutbox
from tests.support.fakes.notifier import MemoryMessages, memory_transactions


class SlowMailer(FakeMailer):
    """Each send takes a turn of the event loop (or waits for `gate`), and the most sends in flight
    at once is remembered."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        super().__init__()
        self.gate, self.in_flight, self.most = gate, 0, 0

    async def send(self, msg) -> None:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(0.001)
            await super().send(msg)
        finally:
            self.in_flight -= 1


class World:
    def __init__(self, **settings) -> None:
        self.clock = Clock()
        self.messages, self.outbox = MemoryMessages(now=self.clock.now), FakeOutbox()
        self.settings = NotifierSettings(environment="development", **settings)
        self.commits = 0
        inner = memory_transactions(self.messages, self.outbox)

        @asynccontextmanager
        async def counted():
            async with inner() as tx:
                yield tx
            self.commits += 1

        self.transactions = counted

    async def record(self, n: int, key: str = "s1:c1") -> None:
        for i in range(n):
            await self.messages.record_intent(
                message_id=f"m-{i}", cause_event_id=f"evt-{i}", cause_type="order.placed", customer_key=key,
                draft=Draft("order_thanks", f"c{i}@example.com", f"Thanks #{i}", "text", "<p>html</p>"),
                cause_time=self.clock.now() - timedelta(seconds=2))


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_batch_goes_out_concurrently_within_the_limit_and_each_message_once():
    w = World(send_batch=50, send_concurrency=8)
    await w.record(60)
    mailer = SlowMailer()
    assert await send_batch(w.transactions, mailer, w.settings, now=w.clock.now) == 50
    assert 1 < mailer.most <= 8
    assert len(mailer.sent) == 50 and len({m["Message-ID"] for m in mailer.sent}) == 50
    assert sum(r.status == "sent" for r in w.messages.rows.values()) == 50
    assert w.outbox.types == ["message.sent"] * 50
    # One claim, then outcomes grouped: fewer commits than messages.
    assert 2 <= w.commits < 1 + 50
    assert await send_batch(w.transactions, mailer, w.settings, now=w.clock.now) == 10
    assert await send_batch(w.transactions, mailer, w.settings, now=w.clock.now) == 0
    assert len(mailer.sent) == 60


async def test_claimed_rows_are_leased_from_other_senders_and_come_back_if_the_sender_dies():
    w = World(send_batch=10, send_concurrency=4, send_lease_s=60.0)
    await w.record(3)
    gate = asyncio.Event()
    first = asyncio.create_task(send_batch(w.transactions, SlowMailer(gate), w.settings, now=w.clock.now))
    await asyncio.sleep(0.01)  # claimed and on their way, waiting at the relay
    other = FakeMailer()
    assert await send_batch(w.transactions, other, w.settings, now=w.clock.now) == 0  # a second instance
    first.cancel()  # this sender dies before the relay answers
    with pytest.raises(asyncio.CancelledError):
        await first
    assert [r.status for r in w.messages.rows.values()] == ["pending"] * 3
    w.clock.advance(seconds=59)
    assert await send_batch(w.transactions, other, w.settings, now=w.clock.now) == 0  # still leased
    w.clock.advance(seconds=1)
    assert await send_batch(w.transactions, other, w.settings, now=w.clock.now) == 3  # lease over: due again
    assert len(other.sent) == 3 and [r.attempts for r in w.messages.rows.values()] == [1, 1, 1]


async def test_gating_decisions_are_recorded_and_counted_by_flow_and_channel():
    w = World()
    await w.record(4)
    until = w.clock.now() + timedelta(hours=8)
    decisions = {"m-0": SEND, "m-1": Defer(until, "quiet_hours"), "m-2": Suppress("unsubscribed"),
                 "m-3": Cancel("order_status_moved")}
    seen_tx = []

    async def decide(message, tx, now):
        seen_tx.append(tx)
        assert now == w.clock.now()
        return decisions[message.message_id]

    before = {k: sample("notifier_messages_total", outcome=k, flow="order_thanks", channel="email")
              for k in ("sent", "deferred", "suppressed", "cancelled")}
    mailer = FakeMailer()
    assert await send_batch(w.transactions, mailer, w.settings, now=w.clock.now, decide=decide) == 4
    assert len(set(map(id, seen_tx))) == 1  # all decided in the claiming transaction
    assert [m["Message-ID"] for m in mailer.sent] == ["<m-0@aftercart>"]
    rows = w.messages.rows
    assert (rows["m-1"].status, rows["m-1"].next_attempt_at, rows["m-1"].status_reason) == (
        "pending", until, "quiet_hours")
    assert (rows["m-2"].status, rows["m-2"].status_reason) == ("suppressed", "unsubscribed")
    assert (rows["m-3"].status, rows["m-3"].status_reason) == ("cancelled", "order_status_moved")
    assert sorted(w.outbox.types) == ["message.sent", "message.suppressed"]
    [suppressed] = [e for e in w.outbox.events if e.envelope.type == "message.suppressed"]
    assert suppressed.envelope.data["reason"] == "unsubscribed"
    for kind in before:
        assert sample("notifier_messages_total", outcome=kind, flow="order_thanks", channel="email") == before[kind] + 1
    # Deferred is not dropped: due again at its time, and then it goes.
    w.clock.advance(hours=8)
    decisions["m-1"] = SEND
    assert await send_batch(w.transactions, mailer, w.settings, now=w.clock.now, decide=decide) == 1
    assert rows["m-1"].status == "sent"


async def test_the_latency_histogram_starts_at_the_cause_event():
    w = World()
    await w.record(1)
    count = sample("notifier_send_latency_seconds_count", channel="email")
    in_2_5 = sample("notifier_send_latency_seconds_bucket", channel="email", le="2.5")
    in_1 = sample("notifier_send_latency_seconds_bucket", channel="email", le="1.0")
    await send_batch(w.transactions, FakeMailer(), w.settings, now=w.clock.now)
    assert sample("notifier_send_latency_seconds_count", channel="email") == count + 1
    # The event was 2 s before the send: in the 2.5 s bucket, not the 1 s one.
    assert sample("notifier_send_latency_seconds_bucket", channel="email", le="2.5") == in_2_5 + 1
    assert sample("notifier_send_latency_seconds_bucket", channel="email", le="1.0") == in_1


async def test_a_channel_nobody_configured_fails_the_message_and_blocks_nothing():
    w = World()
    await w.record(2)
    w.messages.rows["m-0"].channel = "pigeon"
    mailer = FakeMailer()
    assert await send_batch(w.transactions, mailer, w.settings, now=w.clock.now) == 2
    assert (w.messages.rows["m-0"].status, w.messages.rows["m-0"].last_error) == ("failed", "no channel 'pigeon'")
    assert [m["Message-ID"] for m in mailer.sent] == ["<m-1@aftercart>"]


async def test_queue_stats_count_what_is_due_and_how_long_the_oldest_waited():
    w = World()
    assert await w.messages.queue_stats() == (0, 0.0)
    await w.record(3)
    w.clock.advance(seconds=30)
    assert await w.messages.queue_stats() == (3, 30.0)
