"""Sending, the notifier's use case beside its handlers: deliver the next due message and record
the outcome.

Per message, one transaction (a unit of work from `transactions()`): claim the row (SKIP LOCKED,
so several notifier instances share the work), send it through the mailer, mark it sent and write
message.sent to the outbox, commit. The only window for a duplicate is a crash after the SMTP
server accepted the message and before that commit — a few milliseconds; the repeat would carry
the same Message-ID. A temporary refusal (the mailer says which: 4xx, connection refused,
timeouts) is retried with exponential backoff until `send_max_attempts`; a permanent one (5xx), or
the last attempt, marks it failed and writes message.failed.

    sent = await send_one(transactions, mailer, settings)   # False when nothing was due
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING, Protocol

from services.notifier.domain.delivery import StoredMessage, retry_delay
from services.notifier.metrics import notifier_metrics
from shared.errors import SendRefused
from shared.events.envelope import Outgoing, utcnow
from shared.events.follow_up import follow_up_event
from shared.logging import get_logger

if TYPE_CHECKING:
    from services.notifier.adapters.unit_of_work import NotifierUnitOfWork
    from services.notifier.config import NotifierSettings

log = get_logger(__name__)


class Mailer(Protocol):
    """SmtpMailer's interface (and FakeMailer's): `send` raises SendRefused for every failure."""

    def build(self, *, message_id: str, to: str, subject: str, text: str, html: str,
              headers: dict[str, str] | None = None) -> EmailMessage: ...

    async def send(self, msg: EmailMessage) -> None: ...


Transactions = Callable[[], AbstractAsyncContextManager["NotifierUnitOfWork"]]


def outcome_event(message: StoredMessage, status: str, time: datetime, error: str | None = None) -> Outgoing:
    """message.sent / message.failed: by customer key only, never the address or the body."""
    data = {"message_id": message.message_id, "customer_key": message.customer_key, "channel": message.channel,
            "template": message.template, "cause_event_id": message.cause_event_id,
            "cause_type": message.cause_type}
    if error:
        data["error"] = error
    return follow_up_event(service="notifier", cause_id=message.message_id, event_type=f"message.{status}",
                           key=message.customer_key, time=time, data=data)


def email_for(mailer: Mailer, message: StoredMessage) -> EmailMessage:
    return mailer.build(message_id=message.message_id, to=message.to_address, subject=message.subject,
                        text=message.body_text, html=message.body_html,
                        headers={"X-Aftercart-Message-Id": message.message_id,
                                 "X-Aftercart-Template": message.template,
                                 "X-Aftercart-Store": message.store_id})


async def send_one(transactions: Transactions, mailer: Mailer, settings: NotifierSettings,
                   now: Callable[[], datetime] = utcnow) -> bool:
    """Send the next due message; False when none is due."""
    metrics = notifier_metrics()
    async with transactions() as tx:
        claimed = await tx.messages.claim_due(1)
        if not claimed:
            return False
        message = claimed[0]
        try:
            email = email_for(mailer, message)
        except (ValueError, TypeError) as exc:
            # A message that can't even be built (e.g. a line break inside an address or subject:
            # a header injection the email package refuses) never will be: fail it, don't let it
            # stay first in line and block every message behind it.
            error = f"unbuildable: {type(exc).__name__}"
            await tx.messages.mark_failed(message.message_id, error)
            await tx.outbox.write([outcome_event(message, "failed", now(), error)])
            metrics.send_attempts.labels("failed").inc()
            log.error("message_failed", message_id=message.message_id, error=error)
            return True
        try:
            await mailer.send(email)
        except SendRefused as exc:
            error = str(exc)
            attempts = message.attempts + 1
            delay = retry_delay(attempts, temporary=exc.temporary, max_attempts=settings.send_max_attempts,
                                base_s=settings.send_backoff_base_s, max_s=settings.send_backoff_max_s)
            if delay is not None:
                await tx.messages.mark_retry(message.message_id, error, delay)
                metrics.send_attempts.labels("retry").inc()
                log.warning("message_send_retry", message_id=message.message_id, error=error,
                            attempt=attempts, retry_in_s=delay)
            else:
                await tx.messages.mark_failed(message.message_id, error)
                await tx.outbox.write([outcome_event(message, "failed", now(), error)])
                metrics.send_attempts.labels("failed").inc()
                log.error("message_failed", message_id=message.message_id, error=error)
            return True
        await tx.messages.mark_sent(message.message_id)
        await tx.outbox.write([outcome_event(message, "sent", now())])
    metrics.send_attempts.labels("sent").inc()
    metrics.messages_sent.labels(message.channel, message.template).inc()
    log.info("message_sent", message_id=message.message_id, template=message.template)
    return True
