"""One contract for the messages repository, run against MemoryMessages here (test_memory_messages.py)
and against PgMessages on the real PostgreSQL (tests/integration/notifier/test_pg_messages.py), so the
fake the unit tests trust behaves like the table. Each check takes the repository and a fresh id
prefix (the real table is shared: checks only look at their own rows)."""
from __future__ import annotations

from services.notifier.domain.delivery import StoredMessage
from services.notifier.domain.messages import Draft

FAR = 3600.0  # a retry this far away is not due during a test


def draft(n: int = 0) -> Draft:
    return Draft("order_thanks", f"to-{n}@example.com", f"Subject {n}", f"text {n}", f"<p>html {n}</p>")


async def record(repo, p: str, n: int = 0, key: str | None = None) -> bool:
    return await repo.record_intent(message_id=f"{p}-m{n}", cause_event_id=f"{p}-e{n}", cause_type="order.placed",
                                    customer_key=key or f"{p}:c1", draft=draft(n))


async def due(repo, p: str) -> list[StoredMessage]:
    return [m for m in await repo.claim_due(10_000) if m.message_id.startswith(p)]


async def an_intent_is_recorded_once(repo, p: str) -> None:
    assert await record(repo, p) is True
    assert await repo.record_intent(message_id=f"{p}-m0", cause_event_id="other", cause_type="order.paid",
                                    customer_key=f"{p}:c1", draft=draft(9)) is False
    assert await due(repo, p) == [StoredMessage(
        message_id=f"{p}-m0", cause_event_id=f"{p}-e0", cause_type="order.placed", customer_key=f"{p}:c1",
        channel="email", template="order_thanks", to_address="to-0@example.com", subject="Subject 0",
        body_text="text 0", body_html="<p>html 0</p>", status="pending", attempts=0, flow="order_thanks")]


async def a_retry_waits_for_its_time(repo, p: str) -> None:
    await record(repo, p)
    await repo.mark_retry(f"{p}-m0", "SMTP 451", FAR)
    assert await due(repo, p) == []
    [h] = await repo.history(f"{p}:c1", 10)
    assert (h.status, h.attempts, h.sent_at) == ("pending", 1, None)
    await repo.mark_retry(f"{p}-m0", "SMTP 451", 0.0)
    [m] = await due(repo, p)
    assert (m.status, m.attempts) == ("pending", 2)


async def sent_and_failed_are_never_claimed_again(repo, p: str) -> None:
    await record(repo, p, 0)
    await record(repo, p, 1)
    await repo.mark_retry(f"{p}-m0", "SMTP 451", 0.0)
    await repo.mark_sent(f"{p}-m0")
    await repo.mark_failed(f"{p}-m1", "SMTP 550")
    assert await due(repo, p) == []
    by_id = {h.message_id: h for h in await repo.history(f"{p}:c1", 10)}
    sent, failed = by_id[f"{p}-m0"], by_id[f"{p}-m1"]
    assert (sent.status, sent.attempts, sent.sent_at is not None) == ("sent", 2, True)
    assert (failed.status, failed.attempts, failed.sent_at) == ("failed", 1, None)


async def claims_are_oldest_due_first_and_limited(repo, p: str) -> None:
    for n in range(3):
        await record(repo, p, n)
    await repo.mark_retry(f"{p}-m0", "SMTP 451", 0.0)  # m0 is due again, after m1 and m2
    assert [m.message_id for m in await due(repo, p)] == [f"{p}-m1", f"{p}-m2", f"{p}-m0"]
    assert len(await repo.claim_due(2)) <= 2


async def history_is_the_customers_newest_first(repo, p: str) -> None:
    for n in range(3):
        await record(repo, p, n)
    await record(repo, p, 3, key=f"{p}:c2")
    got = await repo.history(f"{p}:c1", 10)
    assert [h.message_id for h in got] == [f"{p}-m2", f"{p}-m1", f"{p}-m0"]
    assert got[0].created_at >= got[1].created_at >= got[2].created_at
    assert (got[0].template, got[0].channel, got[0].cause_type, got[0].cause_event_id) == (
        "order_thanks", "email", "order.placed", f"{p}-e2")
    assert [h.message_id for h in await repo.history(f"{p}:c1", 2)] == [f"{p}-m2", f"{p}-m1"]
    assert [h.message_id for h in await repo.history(f"{p}:c2", 10)] == [f"{p}-m3"]
    assert await repo.history(f"{p}:nobody", 10) == []


async def planned(repo, p: str, n: int, *, statuses=None, due=None, flow: str = "order_completed") -> bool:
    from services.notifier.domain.delivery import Plan

    return await repo.record_intent(
        message_id=f"{p}-m{n}", cause_event_id=f"{p}-e{n}", cause_type="order.completed", customer_key=f"{p}:c1",
        draft=draft(n), plan=Plan(flow=flow, store_id=p, order_id=7, order_statuses=statuses, due_at=due,
                                  marketing=n % 2 == 1))


async def a_scheduled_message_waits_and_can_be_retimed(repo, p: str) -> None:
    from datetime import datetime, timedelta, timezone

    later = datetime.now(timezone.utc) + timedelta(hours=2)
    await planned(repo, p, 0, due=later)
    assert await due(repo, p) == []
    [q] = await repo.queue(store_id=p)
    assert (q.message_id, q.flow, q.order_id, q.due_at, q.status, q.marketing) == (
        f"{p}-m0", "order_completed", 7, later, "pending", False)
    assert await repo.retime(f"{p}-m0", later) is False  # already then
    assert await repo.retime(f"{p}-m0", datetime.now(timezone.utc) - timedelta(seconds=1)) is True
    [m] = await due(repo, p)
    assert (m.flow, m.order_id, m.order_statuses) == ("order_completed", 7, None)


async def a_new_order_status_cancels_what_no_longer_fits(repo, p: str) -> None:
    await planned(repo, p, 0, statuses=frozenset({"completed", "delivered"}))
    await planned(repo, p, 1, statuses=frozenset({"completed", "processing"}))
    await planned(repo, p, 2, statuses=None, flow="order_refunded")  # any status
    assert await repo.cancel_unfit(p, 7, "processing") == [f"{p}-m0"]
    assert await repo.cancel_unfit(p, 7, "processing") == []  # once
    assert await repo.cancel_unfit(f"{p}x", 7, "cancelled") == []  # another store's order 7
    [c] = await repo.queue(store_id=p, status="cancelled")
    assert (c.message_id, c.status_reason) == (f"{p}-m0", "order is now processing")
    assert [m.message_id for m in await due(repo, p)] == [f"{p}-m1", f"{p}-m2"]
    assert [q.message_id for q in await repo.queue(store_id=p, flow="order_refunded")] == [f"{p}-m2"]


async def resend_repeats_a_sent_message_only(repo, p: str) -> None:
    await record(repo, p, 0)
    assert await repo.resend(f"{p}-m0") is False  # still pending: nothing to repeat
    await repo.mark_sent(f"{p}-m0")
    assert await repo.resend(f"{p}-m0") is True
    [m] = await due(repo, p)
    assert (m.status, m.attempts, m.subject) == ("pending", 0, "Subject 0")
    assert (await repo.get(f"{p}-m0")).status_reason == "resend"
    assert await repo.get(f"{p}-nope") is None


CHECKS = [an_intent_is_recorded_once, a_retry_waits_for_its_time, sent_and_failed_are_never_claimed_again,
          claims_are_oldest_due_first_and_limited, history_is_the_customers_newest_first,
          a_scheduled_message_waits_and_can_be_retimed, a_new_order_status_cancels_what_no_longer_fits,
          resend_repeats_a_sent_message_only]
