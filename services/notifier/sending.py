"""Sending, the notifier's use case beside its handlers: deliver the due messages, many at once,
and record each outcome.

One round (`send_batch`):
  1. claim — one short transaction: take up to `send_batch` due rows (FOR UPDATE SKIP LOCKED, so
     several notifier instances share the work) and lease them (their next attempt moves
     `send_lease_s` on); ask gating (`decide`: ntf-consent's gating.decide plugs in at bootstrap)
     about each — Send, or Defer / Suppress / Cancel, recorded right there; read each store's
     settings once. Commit: the lease now keeps every other sender off these rows.
  2. deliver — every message to its channel (`channels[message.channel]`: email over the pooled
     SMTP mailer, the store's webhook), at most `send_concurrency` at a time.
  3. record — as each delivery finishes its outcome joins the next group commit (one transaction
     for everything that finished meanwhile): sent (+ message.sent), retry with backoff after a
     temporary refusal, failed (+ message.failed) after a permanent one or the last attempt.

Exactly once: a row is only ever in flight at one sender (the lease), and it is marked sent in
the group commit right after the channel accepted it. The only window for a duplicate is a crash
between the SMTP server's 250 and that commit (a few milliseconds: the commit waits for nothing
but the other deliveries that finished at the same moment); the repeat, after the lease runs out,
carries the same Message-ID. A sender that dies holds nothing else: its claimed rows that were
never accepted simply fall due again when the lease ends. The lease is far longer than a send can
take (SMTP timeout per step), so a live sender never loses its rows to another.

    claimed = await send_batch(transactions, channels, settings)   # 0 when nothing was due
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from services.notifier.adapters.email_channel import EmailChannel
from services.notifier.domain.consent import HARD_BOUNCE, address_hash, is_hard_bounce
from services.notifier.domain.delivery import SEND, Cancel, Decision, Defer, Send, StoredMessage, Suppress, retry_delay
from services.notifier.metrics import notifier_metrics
from shared.errors import SendRefused
from shared.events.envelope import Outgoing, utcnow
from shared.events.follow_up import follow_up_event
from shared.logging import get_logger

if TYPE_CHECKING:
    from services.notifier.adapters.unit_of_work import NotifierUnitOfWork
    from services.notifier.config import NotifierSettings
    from services.notifier.domain.channels import Channel

log = get_logger(__name__)

Transactions = Callable[[], AbstractAsyncContextManager["NotifierUnitOfWork"]]
# gating.decide's shape: called in the claiming transaction for each claimed message.
Decide = Callable[[StoredMessage, Any, datetime], Awaitable[Decision]]
# Called after each group commit that wrote outbox rows (bootstrap: wake the outbox relay).
Written = Callable[[], None]


async def send_everything(message: StoredMessage, tx: Any, now: datetime) -> Decision:
    """The gate when none is plugged in: every claimed message goes out."""
    return SEND


def outcome_event(message: StoredMessage, status: str, time: datetime, error: str | None = None,
                  reason: str | None = None) -> Outgoing:
    """message.sent / .failed / .suppressed: by customer key only, never the address or the body."""
    data = {"message_id": message.message_id, "customer_key": message.customer_key, "channel": message.channel,
            "template": message.template, "cause_event_id": message.cause_event_id,
            "cause_type": message.cause_type}
    if error:
        data["error"] = error
    if reason:
        data["reason"] = reason
    return follow_up_event(service="notifier", cause_id=message.message_id, event_type=f"message.{status}",
                           key=message.customer_key, time=time, data=data)


def flow_of(message: StoredMessage) -> str:
    return getattr(message, "flow", "") or message.template  # rows from before flows: their template


def as_channels(channels: Mapping[str, Channel] | Any) -> Mapping[str, Channel]:
    """The channels by name; a bare mailer (SmtpMailer, FakeMailer) is the email channel alone."""
    return channels if isinstance(channels, Mapping) else {"email": EmailChannel(channels)}


@dataclass(frozen=True)
class Outcome:
    message: StoredMessage
    status: str  # sent | retry | failed
    at: datetime
    error: str | None = None
    delay_s: float | None = None
    hard_bounce: bool = False  # the server refused the address for good: it joins the suppression list


async def send_batch(transactions: Transactions, channels: Mapping[str, Channel] | Any,
                     settings: NotifierSettings, *, now: Callable[[], datetime] = utcnow,
                     decide: Decide = send_everything, limit: int | None = None,
                     written: Written | None = None) -> int:
    """One round: claim, deliver concurrently, record. Returns how many messages were claimed
    (0: nothing was due)."""
    claimed, ready = await _claim(transactions, settings, limit or settings.send_batch, decide, now)
    if not ready:
        return len(claimed)
    by_name = as_channels(channels)
    finished: asyncio.Queue[Outcome] = asyncio.Queue()
    recorder = asyncio.create_task(_record(transactions, finished, len(ready), written))
    slots = asyncio.Semaphore(max(1, settings.send_concurrency))

    async def deliver(message: StoredMessage, store: Any) -> None:
        async with slots:
            finished.put_nowait(await _deliver(by_name, message, store, settings, now))

    try:
        await asyncio.gather(*(deliver(m, store) for m, store in ready))
        await recorder
    finally:
        if not recorder.done():
            recorder.cancel()
    return len(claimed)


async def send_one(transactions: Transactions, channels: Mapping[str, Channel] | Any,
                   settings: NotifierSettings, now: Callable[[], datetime] = utcnow,
                   decide: Decide = send_everything) -> bool:
    """Send the next due message alone; False when none is due."""
    return await send_batch(transactions, channels, settings, now=now, decide=decide, limit=1) > 0


async def _claim(transactions: Transactions, settings: NotifierSettings, limit: int, decide: Decide,
                 now: Callable[[], datetime]) -> tuple[list[StoredMessage], list[tuple[StoredMessage, Any]]]:
    metrics = notifier_metrics()
    held: list[tuple[StoredMessage, Decision]] = []
    async with transactions() as tx:
        claimed = await tx.messages.claim_due(limit, settings.send_lease_s)
        ready: list[tuple[StoredMessage, Any]] = []
        stores: dict[str, Any] = {}
        absorbed: set[str] = set()  # parts of a digest already on its way in this round
        for message in claimed:
            if message.message_id in absorbed:
                continue
            decision = await decide(message, tx, now())
            if isinstance(decision, Send):
                if message.store_id not in stores:
                    stores[message.store_id] = await tx.settings.store(message.store_id)
                out = decision.message or message  # with its unsubscribe headers, or a digest
                absorbed.update(out.digest_parts)
                ready.append((out, stores[message.store_id]))
            else:
                await _hold(tx, message, decision, now())
                held.append((message, decision))
    for message, decision in held:  # counted once committed
        kind = {Defer: "deferred", Suppress: "suppressed", Cancel: "cancelled"}[type(decision)]
        metrics.outcome(kind, message).inc()
        log.info(f"message_{kind}", message_id=message.message_id, reason=decision.reason)
    return claimed, ready


async def _hold(tx: Any, message: StoredMessage, decision: Decision, at: datetime) -> None:
    """Record a decision other than Send (in the claiming transaction: the lease ends with it)."""
    if isinstance(decision, Defer):
        await tx.messages.defer(message.message_id, decision.until, decision.reason)
    elif isinstance(decision, Suppress):
        await tx.messages.mark_suppressed(message.message_id, decision.reason)
        await tx.outbox.write([outcome_event(message, "suppressed", at, reason=decision.reason)])
    elif isinstance(decision, Cancel):
        await tx.messages.mark_cancelled(message.message_id, decision.reason)


async def _deliver(channels: Mapping[str, Channel], message: StoredMessage, store: Any,
                   settings: NotifierSettings, now: Callable[[], datetime]) -> Outcome:
    channel = channels.get(message.channel)
    try:
        if channel is None:
            raise SendRefused(f"no channel {message.channel!r}", temporary=False)
        await channel.deliver(message, store)
    except SendRefused as exc:
        attempts = message.attempts + 1
        delay = retry_delay(attempts, temporary=exc.temporary, max_attempts=settings.send_max_attempts,
                            base_s=settings.send_backoff_base_s, max_s=settings.send_backoff_max_s)
        return Outcome(message, "retry" if delay is not None else "failed", now(), str(exc), delay,
                       hard_bounce=message.channel == "email" and is_hard_bounce(exc.code, exc.temporary))
    except Exception as exc:  # a bug in a channel: retried like a temporary refusal, never lost, never a loop
        log.exception("channel_error", message_id=message.message_id, channel=message.channel)
        attempts = message.attempts + 1
        delay = retry_delay(attempts, temporary=True, max_attempts=settings.send_max_attempts,
                            base_s=settings.send_backoff_base_s, max_s=settings.send_backoff_max_s)
        return Outcome(message, "retry" if delay is not None else "failed", now(), f"error: {type(exc).__name__}",
                       delay)
    return Outcome(message, "sent", now())


async def _record(transactions: Transactions, finished: asyncio.Queue[Outcome], expected: int,
                  written: Written | None) -> None:
    """Group commit: each transaction writes every outcome that finished since the last one."""
    done = 0
    while done < expected:
        group = [await finished.get()]
        while not finished.empty():
            group.append(finished.get_nowait())
        await _commit(transactions, group)
        done += len(group)
        if written is not None:
            written()
        _after_commit(group)


async def _commit(transactions: Transactions, group: list[Outcome], tries: int = 10) -> None:
    """Write a group's outcomes; a database that is briefly away is waited for (the rows stay leased
    meanwhile), since giving up means those messages go out again when their lease ends."""
    for attempt in range(1, tries + 1):
        try:
            async with transactions() as tx:
                sent = [o for o in group if o.status == "sent"]
                if sent:
                    # A digest's parts went out in its email: sent with it.
                    await tx.messages.mark_sent_many(
                        [i for o in sent for i in (o.message.message_id, *o.message.digest_parts)])
                for o in group:
                    if o.status == "retry":
                        await tx.messages.mark_retry(o.message.message_id, o.error, o.delay_s)
                    elif o.status == "failed":
                        await tx.messages.mark_failed(o.message.message_id, o.error)
                    if o.hard_bounce and await tx.suppressions.add(
                            o.message.store_id, address_hash(o.message.to_address), HARD_BOUNCE, o.error):
                        notifier_metrics().suppressions_added.labels(HARD_BOUNCE).inc()
                events = [outcome_event(o.message, o.status, o.at, o.error) for o in group if o.status != "retry"]
                if events:
                    await tx.outbox.write(events)
            return
        except Exception as exc:
            if attempt == tries:
                raise
            log.warning("sender_commit_retry", error=type(exc).__name__, attempt=attempt)
            await asyncio.sleep(min(0.2 * attempt, 2.0))


def _after_commit(group: list[Outcome]) -> None:
    metrics = notifier_metrics()
    for o in group:
        m = o.message
        metrics.send_attempts.labels(o.status).inc()
        if o.status == "sent":
            metrics.messages_sent.labels(m.channel, m.template).inc()
            metrics.outcome("sent", m).inc()
            if m.cause_time is not None:
                metrics.latency.labels(m.channel).observe(max(0.0, (o.at - m.cause_time).total_seconds()))
        elif o.status == "failed":
            metrics.outcome("failed", m).inc()
            log.error("message_failed", message_id=m.message_id, error=o.error)
        else:
            log.warning("message_send_retry", message_id=m.message_id, error=o.error,
                        attempt=m.attempts + 1, retry_in_s=o.delay_s)
    sent = [o.message.message_id for o in group if o.status == "sent"]
    if sent:
        log.info("messages_sent", count=len(sent), message_ids=sent)
