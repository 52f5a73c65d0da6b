"""The sender worker: delivers recorded messages over SMTP and publishes the outcome.

Per message, one transaction: claim the row (SKIP LOCKED, so several notifier instances share
the work), send, mark sent and write message.sent to the outbox, commit. The only window for a
duplicate is a crash after the SMTP server accepted the message and before that commit — a few
milliseconds; the repeat would carry the same Message-ID. Temporary SMTP failures (4xx,
connection refused, timeouts) are retried with backoff; permanent ones (5xx) mark it failed.
"""
from __future__ import annotations

import asyncio

import aiosmtplib

from services.notifier.adapters.mailer import SmtpMailer
from services.notifier.adapters.messages import PgMessages
from services.notifier.metrics import notifier_metrics
from shared.db import outbox
from shared.events.follow_up import follow_up_event
from shared.events.envelope import Outgoing, utcnow
from shared.logging import get_logger

log = get_logger(__name__)


def _outcome_event(row, status: str, error: str | None = None) -> Outgoing:
    event_type = f"message.{status}"
    data = {"message_id": row["message_id"], "customer_key": row["customer_key"], "channel": row["channel"],
            "template": row["template"], "cause_event_id": row["cause_event_id"],
            "cause_type": row["cause_type"]}
    if error:
        data["error"] = error
    return follow_up_event(service="notifier", cause_id=row["message_id"], event_type=event_type,
                      key=row["customer_key"], time=utcnow(), data=data)


def _is_temporary(exc: Exception) -> bool:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 400 <= exc.code < 500
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(400 <= r.code < 500 for r in exc.recipients)
    return True  # connection refused, timeouts, TLS trouble: the relay may come back


async def send_one(pool, mailer: SmtpMailer, settings) -> bool:
    """Send the next due message; False when none is due."""
    metrics = notifier_metrics()
    async with pool.acquire() as conn:
        async with conn.transaction():
            repo = PgMessages(conn)
            rows = await repo.claim_due(1)
            if not rows:
                return False
            row = rows[0]
            msg = mailer.build(message_id=row["message_id"], to=row["to_address"], subject=row["subject"],
                               text=row["body_text"], html=row["body_html"],
                               headers={"X-Aftercart-Message-Id": row["message_id"],
                                        "X-Aftercart-Template": row["template"],
                                        "X-Aftercart-Store": row["customer_key"].split(":", 1)[0]})
            try:
                await mailer.send(msg)
            except Exception as exc:
                error = f"{type(exc).__name__}: {getattr(exc, 'code', '')}".strip()
                attempts = row["attempts"] + 1
                if _is_temporary(exc) and attempts < settings.send_max_attempts:
                    delay = min(settings.send_backoff_base_s * 2 ** (attempts - 1), settings.send_backoff_max_s)
                    await repo.mark_retry(row["message_id"], error, delay)
                    metrics.send_attempts.labels("retry").inc()
                    log.warning("message_send_retry", message_id=row["message_id"], error=error,
                                attempt=attempts, retry_in_s=delay)
                else:
                    await repo.mark_failed(row["message_id"], error)
                    await outbox.write(conn, [_outcome_event(row, "failed", error)])
                    metrics.send_attempts.labels("failed").inc()
                    log.error("message_failed", message_id=row["message_id"], error=error)
                return True
            await repo.mark_sent(row["message_id"])
            await outbox.write(conn, [_outcome_event(row, "sent")])
    metrics.send_attempts.labels("sent").inc()
    metrics.messages_sent.labels(row["channel"], row["template"]).inc()
    log.info("message_sent", message_id=row["message_id"], template=row["template"])
    return True


async def run_sender(rt, mailer: SmtpMailer) -> None:
    s = rt.settings
    while True:
        try:
            if not await send_one(rt.pool, mailer, s):
                await asyncio.sleep(s.send_idle_poll_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # DB away: wait and carry on; rows stay pending
            log.warning("sender_error", error=type(exc).__name__)
            await asyncio.sleep(1.0)
