"""The notifier's handlers against its real database: which order events become which message
intents, once per order where that's the promise (one thank-you, paid now or later; one on-hold
and one failed-payment message). Each event is handled as the consumer loop does it: a
transaction, a NotifierUnitOfWork on its connection, in a schema of the test's own. Then the
sender sends them through the real SMTP sink, and the mail is read back from the sink's HTTP API:
in German for a de_DE customer."""
from __future__ import annotations

import httpx
import pytest

from services.notifier import handlers
from services.notifier.adapters.mailer import SmtpMailer
from services.notifier.adapters.settings import PgSettings
from services.notifier.adapters.unit_of_work import NotifierUnitOfWork, in_transaction
from services.notifier.bootstrap import MIGRATIONS, message_config
from services.notifier.config import NotifierSettings
from services.notifier.domain.messages import MessageConfig
from services.notifier.domain.store_settings import FlowSettings
from services.notifier.sending import send_one
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from tests.support.pg_schema import isolated_schema
from tests.unit.notifier.orders import order_data, order_event, refund

NBSP = "\u00a0"


def _event(uid, type_, order_id, status, salt="", **extra):
    return order_event(type_, order_data(f"n{uid}", order_id, status, email=f"n-{uid}@example.com", **extra),
                       salt=f"{uid}{salt}")


async def _handle(pool, event, config: MessageConfig = MessageConfig()):
    async with pool.acquire() as conn:
        async with conn.transaction():
            await handlers.HANDLERS[event.type](event, NotifierUnitOfWork(conn, config))


async def _templates(pool, uid):
    rows = await pool.fetch("SELECT template, subject FROM messages WHERE customer_key = $1 ORDER BY created_at",
                            f"n{uid}:c1")
    return [(r["template"], r["subject"]) for r in rows]


@pytest.fixture
async def schema(stack, uid):
    """The notifier's tables in a schema of this test's own: its sender sees only its own rows."""
    async with isolated_schema(stack.service_dsn("notifier"), f"om_{uid}") as dsn:
        pool = await create_pool(dsn, 1, 3)
        try:
            await apply_migrations(pool, MIGRATIONS, "notifier")
        finally:
            await pool.close()
        yield dsn


async def test_one_thank_you_per_order_whether_paid_at_once_or_later(schema, uid):
    pool = await create_pool(schema, 1, 3)
    try:
        # The thank-you's rules (a first order's welcome is test_flows_e2e.py's): welcome off here.
        await PgSettings(pool).put_flow(f"n{uid}", "welcome", FlowSettings(enabled=False))
        # Paid at checkout: placed (processing) and paid both arrive; one thank-you.
        await _handle(pool, _event(uid, "order.placed", 1, "processing"))
        await _handle(pool, _event(uid, "order.paid", 1, "processing"))
        # Bank transfer: placed while pending says nothing; the payment brings the thank-you.
        await _handle(pool, _event(uid, "order.placed", 2, "pending"))
        assert [t for t, _ in await _templates(pool, uid)] == ["order_thanks"]
        await _handle(pool, _event(uid, "order.paid", 2, "processing"))
        # Failed payment: nothing to thank for.
        await _handle(pool, _event(uid, "order.placed", 3, "failed"))
        # Bad news is said: a cancellation and each refund.
        await _handle(pool, _event(uid, "order.cancelled", 4, "cancelled"))
        for rid in (7, 8):
            await _handle(pool, _event(uid, "order.refunded", 1, "processing", salt=rid, refund=refund(rid, "5.00")))
        # A redelivered refund (same event id) records nothing more.
        await _handle(pool, _event(uid, "order.refunded", 1, "processing", salt=8, refund=refund(8, "5.00")))
        assert await _templates(pool, uid) == [
            ("order_thanks", "Thank you for your order #1"), ("order_thanks", "Thank you for your order #2"),
            ("order_cancelled", "Your order #4 was cancelled"), ("order_refunded", "We refunded €5.00 for order #1"),
            ("order_refunded", "We refunded €5.00 for order #1")]
        # Intents are not news: nothing reaches the outbox until the sender has sent.
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE key = $1", f"n{uid}:c1") == 0
    finally:
        await pool.close()


async def test_on_hold_and_failed_payment_are_recorded_once_and_sent_in_german(stack, schema, uid):
    settings = NotifierSettings(environment="development", database_url=schema, smtp_port=stack.smtp_port,
                                default_locale="en")
    pool = await create_pool(settings.database_url, 1, 3)
    mailer = SmtpMailer("127.0.0.1", stack.smtp_port, from_address=settings.from_address)
    config, key, to = message_config(settings), f"n{uid}:c1", f"n-{uid}@example.com"
    pay_url = f"https://n{uid}.example/checkout/order-pay/12/?pay_for_order=true&key=wc_order_{uid}"
    try:
        # A bank-transfer order placed on hold (no thank-you yet, one on-hold message even if it is
        # put on hold twice), and an order whose payment failed (one message, with the pay link).
        await _handle(pool, _event(uid, "order.placed", 11, "on-hold", locale="de_DE"), config)
        await _handle(pool, _event(uid, "order.on_hold", 11, "on-hold", locale="de_DE"), config)
        await _handle(pool, _event(uid, "order.on_hold", 11, "on-hold", salt="again", locale="de_DE"), config)
        await _handle(pool, _event(uid, "order.failed", 12, "failed", locale="de-DE", payment_url=pay_url), config)
        await _handle(pool, _event(uid, "order.failed", 12, "failed", salt="again", locale="de-DE",
                                   payment_url=pay_url), config)
        assert await _templates(pool, uid) == [
            ("order_on_hold", "Bestellung #11: Wir warten auf Ihre Zahlung"),
            ("order_failed", "Zahlung für Ihre Bestellung #12 fehlgeschlagen")]

        async def all_sent() -> bool:
            return await pool.fetchval("SELECT count(*) FROM messages WHERE customer_key = $1 AND status = 'sent'",
                                       key) == 2
        for _ in range(50):  # the sender takes due messages oldest first (only this test's here)
            if await all_sent():
                break
            await send_one(lambda: in_transaction(pool), mailer, settings)
        assert await all_sent()

        async with httpx.AsyncClient(timeout=10) as client:
            mails = (await client.get(f"{stack.mail_api_url()}/api/messages", params={"to": to})).json()
        by_template = {m["headers"]["X-Aftercart-Template"]: m for m in mails}
        assert sorted(by_template) == ["order_failed", "order_on_hold"] and len(mails) == 2
        hold, failed = by_template["order_on_hold"], by_template["order_failed"]
        assert hold["subject"] == "Bestellung #11: Wir warten auf Ihre Zahlung"
        assert hold["text"].startswith("Hallo Ana,\n\nwir haben Ihre Bestellung #11 vom 1. März 2026 erhalten.")
        assert f"Sie wartet auf Ihre Zahlung über 59,90{NBSP}€" in hold["text"]
        assert f"- 2 x Blue <Mug> (20,00{NBSP}€)" in hold["text"] and f"Gesamtsumme: 59,90{NBSP}€" in hold["text"]
        assert '<html lang="de-DE">' in hold["html"] and "Blue &lt;Mug&gt;" in hold["html"]
        assert failed["subject"] == "Zahlung für Ihre Bestellung #12 fehlgeschlagen"
        assert f"die Zahlung über 59,90{NBSP}€ für Ihre Bestellung #12 ist leider nicht durchgegangen" in failed["text"]
        assert pay_url in failed["text"] and f'href="{pay_url.replace("&", "&amp;")}"' in failed["html"]
        assert all(to in m["headers"]["To"] for m in mails)
    finally:
        await pool.close()
