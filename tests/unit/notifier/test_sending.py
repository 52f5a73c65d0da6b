"""The sending use case (sending.py) with FakeMailer, MemoryMessages and FakeOutbox: a sent message
is marked sent and announced; temporary refusals back off exponentially until the last attempt;
a permanent refusal fails at once; the outcome events carry the customer key, never the address."""
from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from prometheus_client import REGISTRY

from services.notifier.config import NotifierSettings
from services.notifier.domain.messages import Draft
from services.notifier.sending import send_one
from shared.events.envelope import derived_event_id
from shared.testing import Clock, FakeMailer, FakeOutbox
from tests.support.fakes.notifier import MemoryMessages, memory_transactions

TO = "ana@example.com"


class Sender:
    """One notifier's sending state, all in memory, on a clock the test moves."""

    def __init__(self, **settings) -> None:
        self.clock = Clock()
        self.messages, self.outbox, self.mailer = MemoryMessages(now=self.clock.now), FakeOutbox(), FakeMailer()
        self.settings = NotifierSettings(environment="development", **settings)
        self.transactions = memory_transactions(self.messages, self.outbox)

    async def record(self, message_id: str = "m-1", customer_key: str = "s1:c1") -> None:
        await self.messages.record_intent(
            message_id=message_id, cause_event_id="evt-1", cause_type="order.placed", customer_key=customer_key,
            draft=Draft("order_thanks", TO, "Thank you for your order #1", "text body", "<p>html body</p>"))

    async def send_one(self) -> bool:
        return await send_one(self.transactions, self.mailer, self.settings, now=self.clock.now)


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def attempts_metric(outcome: str) -> float:
    return sample("notifier_send_attempts_total", outcome=outcome)


def outcome_data(status: str, **extra) -> dict:
    return {"message_id": "m-1", "customer_key": "s1:c1", "channel": "email", "template": "order_thanks",
            "cause_event_id": "evt-1", "cause_type": "order.placed", "error": None, "reason": None, **extra}


async def test_nothing_due_sends_nothing():
    s = Sender()
    assert await s.send_one() is False
    assert s.mailer.sent == [] and s.outbox.events == []


async def test_a_sent_message_is_marked_sent_and_announced():
    s = Sender()
    await s.record()
    before_sent, before_total = attempts_metric("sent"), sample(
        "notifier_messages_sent_total", channel="email", template="order_thanks")
    assert await s.send_one() is True

    [msg] = s.mailer.sent
    assert (msg["To"], msg["From"], msg["Subject"]) == (TO, "Aftercart <hello@aftercart.local>",
                                                        "Thank you for your order #1")
    assert msg["Message-ID"] == "<m-1@aftercart>"
    assert (msg["X-Aftercart-Message-Id"], msg["X-Aftercart-Template"], msg["X-Aftercart-Store"]) == (
        "m-1", "order_thanks", "s1")
    assert msg.get_body(("plain",)).get_content().strip() == "text body"
    assert msg.get_body(("html",)).get_content().strip() == "<p>html body</p>"

    row = s.messages.rows["m-1"]
    assert (row.status, row.attempts, row.last_error, row.sent_at) == ("sent", 1, None, s.clock.now())

    [out] = s.outbox.events
    assert (out.topic, out.key) == ("notifications.v1", "s1:c1")
    env = out.envelope
    assert (env.type, env.id, env.source, env.subject, env.time) == (
        "message.sent", derived_event_id("m-1", "message.sent"), "/services/notifier", "customer/s1:c1",
        s.clock.now())
    assert env.data == outcome_data("sent")
    assert TO not in env.to_bytes().decode()  # the record says who by key, never by address

    assert attempts_metric("sent") == before_sent + 1
    assert sample("notifier_messages_sent_total", channel="email", template="order_thanks") == before_total + 1
    # Sent is sent: nothing is due any more.
    assert await s.send_one() is False and len(s.mailer.sent) == 1


async def test_temporary_refusals_back_off_until_the_last_attempt_then_fail():
    s = Sender(send_max_attempts=4, send_backoff_base_s=1.0, send_backoff_max_s=300.0)
    await s.record()
    s.mailer.refuse(451, times=4)
    before_retry, before_failed = attempts_metric("retry"), attempts_metric("failed")
    for attempt, delay in ((1, 1.0), (2, 2.0), (3, 4.0)):
        assert await s.send_one() is True
        row = s.messages.rows["m-1"]
        assert (row.status, row.attempts, row.last_error) == ("pending", attempt, "SMTP 451")
        assert row.next_attempt_at == s.clock.now() + timedelta(seconds=delay)
        # not due before its time…
        s.clock.advance(seconds=delay - 0.001)
        assert await s.send_one() is False
        s.clock.advance(seconds=0.001)  # …due at it
    assert s.outbox.events == [] and attempts_metric("retry") == before_retry + 3

    assert await s.send_one() is True  # the 4th attempt is the last one allowed
    row = s.messages.rows["m-1"]
    assert (row.status, row.attempts, row.last_error) == ("failed", 4, "SMTP 451")
    assert s.mailer.sent == []
    [out] = s.outbox.events
    assert out.envelope.type == "message.failed" and out.envelope.data == outcome_data("failed", error="SMTP 451")
    assert out.envelope.id == derived_event_id("m-1", "message.failed")
    assert attempts_metric("failed") == before_failed + 1
    assert await s.send_one() is False  # failed is final


async def test_backoff_is_capped():
    s = Sender(send_max_attempts=5, send_backoff_base_s=100.0, send_backoff_max_s=150.0)
    await s.record()
    s.mailer.refuse(421, times=3)
    delays = []
    for _ in range(3):
        assert await s.send_one() is True
        row = s.messages.rows["m-1"]
        delays.append((row.next_attempt_at - s.clock.now()).total_seconds())
        s.clock.advance(seconds=delays[-1])
    assert delays == [100.0, 150.0, 150.0]
    assert await s.send_one() is True
    assert (s.messages.rows["m-1"].status, s.messages.rows["m-1"].attempts) == ("sent", 4)
    assert s.outbox.types == ["message.sent"]


async def test_a_relay_back_after_refusals_sends_once():
    s = Sender(send_backoff_base_s=0.0)
    await s.record()
    s.mailer.refuse(451, times=2)
    for _ in range(3):
        assert await s.send_one() is True
    for _ in range(3):
        assert await s.send_one() is False  # nothing left: no second copy
    assert len(s.mailer.sent) == 1
    row = s.messages.rows["m-1"]
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert s.outbox.types == ["message.sent"]


@pytest.mark.parametrize("code", [550, 554])
async def test_a_permanent_refusal_fails_at_once(code):
    s = Sender(send_max_attempts=8)
    await s.record()
    s.mailer.refuse(code)
    before_retry = attempts_metric("retry")
    assert await s.send_one() is True
    row = s.messages.rows["m-1"]
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, f"SMTP {code}")
    assert attempts_metric("retry") == before_retry
    [out] = s.outbox.events
    assert out.envelope.type == "message.failed"
    assert out.envelope.data == outcome_data("failed", error=f"SMTP {code}")
    assert TO not in orjson.dumps(out.envelope.data).decode()
    assert await s.send_one() is False and s.mailer.sent == []


async def test_messages_go_out_oldest_due_first_one_per_call():
    s = Sender()
    await s.record("m-a", "s1:c1")
    s.clock.advance(seconds=1)
    await s.record("m-b", "s2:c7")
    assert await s.send_one() is True
    assert [m["Message-ID"] for m in s.mailer.sent] == ["<m-a@aftercart>"]
    assert await s.send_one() is True
    assert [m["X-Aftercart-Store"] for m in s.mailer.sent] == ["s1", "s2"]
    assert [e.key for e in s.outbox.events] == ["s1:c1", "s2:c7"]


class BrokenMailer(FakeMailer):
    """A mailer that fails in a way no adapter should (a bug, not a refusal)."""

    async def send(self, msg) -> None:
        raise RuntimeError("bug")


async def test_an_unexpected_error_in_a_channel_is_retried_like_a_temporary_refusal():
    """A bug in a channel must neither lose the message nor spin on it: it backs off and, after the
    last attempt, fails with the error's class as the reason."""
    s = Sender(send_max_attempts=2, send_backoff_base_s=5.0)
    await s.record()
    assert await send_one(s.transactions, BrokenMailer(), s.settings, now=s.clock.now) is True
    row = s.messages.rows["m-1"]
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "error: RuntimeError")
    assert row.next_attempt_at == s.clock.now() + timedelta(seconds=5)
    s.clock.advance(seconds=5)
    assert await send_one(s.transactions, BrokenMailer(), s.settings, now=s.clock.now) is True
    assert (row.status, row.attempts) == ("failed", 2)
    assert s.outbox.types == ["message.failed"]


async def test_a_message_that_cannot_be_built_fails_and_blocks_nothing_behind_it():
    """A line break inside the address (a header injection the email package refuses) can never be
    sent: the message fails with the reason, and the one behind it still goes out."""
    s = Sender()
    await s.messages.record_intent(
        message_id="m-1", cause_event_id="evt-1", cause_type="order.placed", customer_key="s1:c1",
        draft=Draft("order_thanks", "ana@example.com\nBcc: all@example.com", "Thanks", "text", "<p>html</p>"))
    s.clock.advance(seconds=1)
    await s.record("m-2", "s1:c2")
    assert await s.send_one() is True
    row = s.messages.rows["m-1"]
    assert (row.status, row.last_error) == ("failed", "unbuildable: ValueError")
    assert [e.envelope.type for e in s.outbox.events] == ["message.failed"]
    assert s.mailer.sent == []
    assert await s.send_one() is True
    assert [m["Message-ID"] for m in s.mailer.sent] == ["<m-2@aftercart>"]
