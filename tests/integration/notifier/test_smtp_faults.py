"""The notifier's sender (sending.py through SmtpMailer and PgMessages) against the real SMTP sink:
a relay that refuses for a while loses nothing and sends once; a permanent refusal marks the
message failed and says so on Kafka's behalf (the outbox); a relay that isn't there is a
temporary refusal."""
from __future__ import annotations

import socket

import httpx
import orjson
import pytest

from services.notifier.adapters.mailer import SmtpMailer
from services.notifier.adapters.messages import PgMessages
from services.notifier.adapters.unit_of_work import in_transaction
from services.notifier.bootstrap import MIGRATIONS
from services.notifier.config import NotifierSettings
from services.notifier.domain.messages import Draft
from services.notifier.sending import send_one as send_next
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.errors import SendRefused


async def send_one(pool, mailer, settings) -> bool:
    return await send_next(lambda: in_transaction(pool), mailer, settings)


async def _setup(stack, uid):
    settings = NotifierSettings(environment="development", database_url=stack.service_dsn("notifier"),
                                smtp_port=stack.smtp_port, send_backoff_base_s=0.0, send_max_attempts=4)
    pool = await create_pool(settings.database_url, 1, 3)
    await apply_migrations(pool, MIGRATIONS, "notifier")
    mailer = SmtpMailer("127.0.0.1", stack.smtp_port, from_address=settings.from_address)
    to = f"smtp-{uid}@example.com"
    async with pool.acquire() as conn:
        await PgMessages(conn).record_intent(
            message_id=f"msg-{uid}", cause_event_id=f"evt-{uid}", cause_type="order.placed",
            customer_key=f"s:{uid}", draft=Draft("order_thanks", to, f"Thanks {uid}", "text body", "<p>html</p>"))
    return settings, pool, mailer, to


async def _drain(pool, mailer, settings, uid, limit=10):
    for _ in range(limit):
        row = await pool.fetchrow("SELECT status, attempts FROM messages WHERE message_id = $1", f"msg-{uid}")
        if row["status"] != "pending":
            return row
        await send_one(pool, mailer, settings)
    return await pool.fetchrow("SELECT status, attempts FROM messages WHERE message_id = $1", f"msg-{uid}")


async def _outbox_types(pool, uid) -> list[str]:
    rows = await pool.fetch("SELECT payload FROM outbox WHERE key = $1 ORDER BY seq", f"s:{uid}")
    return [orjson.loads(r["payload"])["type"] for r in rows]


async def test_temporary_refusals_are_retried_and_the_mail_sent_once(stack, uid):
    settings, pool, mailer, to = await _setup(stack, uid)
    api = stack.mail_api_url()
    async with httpx.AsyncClient() as client:
        assert (await client.post(f"{api}/api/faults", json={"refuse_next": 2, "code": 451})).status_code == 200
        row = await _drain(pool, mailer, settings, uid)
        assert (row["status"], row["attempts"]) == ("sent", 3)
        for _ in range(3):  # nothing left to send: no second copy
            await send_one(pool, mailer, settings)
        msgs = (await client.get(f"{api}/api/messages", params={"to": to})).json()
    assert len(msgs) == 1
    m = msgs[0]
    assert m["subject"] == f"Thanks {uid}" and m["text"].strip() == "text body"
    assert m["headers"]["Message-ID"] == f"<msg-{uid}@aftercart>"
    assert m["headers"]["X-Aftercart-Template"] == "order_thanks"
    assert m["headers"]["X-Aftercart-Message-Id"] == f"msg-{uid}"
    assert m["headers"]["X-Aftercart-Store"] == "s"
    assert await _outbox_types(pool, uid) == ["message.sent"]
    await pool.close()


async def test_permanent_refusal_marks_failed_and_publishes_message_failed(stack, uid):
    settings, pool, mailer, to = await _setup(stack, uid)
    api = stack.mail_api_url()
    async with httpx.AsyncClient() as client:
        await client.post(f"{api}/api/faults", json={"refuse_next": 1, "code": 550})
        row = await _drain(pool, mailer, settings, uid)
        assert (row["status"], row["attempts"]) == ("failed", 1)
        assert (await client.get(f"{api}/api/messages", params={"to": to})).json() == []
    assert await _outbox_types(pool, uid) == ["message.failed"]
    payload = orjson.loads(await pool.fetchval("SELECT payload FROM outbox WHERE key = $1", f"s:{uid}"))
    assert to not in orjson.dumps(payload).decode()  # the record carries the customer key, never the address
    await pool.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nobody listens there


async def test_an_absent_relay_is_a_temporary_refusal(stack, uid):
    settings, pool, _, to = await _setup(stack, uid)
    absent = SmtpMailer("127.0.0.1", _closed_port(), from_address=settings.from_address, timeout_s=2.0)
    with pytest.raises(SendRefused) as refused:
        await absent.send(absent.build(message_id="x", to=to, subject="s", text="t", html="h"))
    assert refused.value.temporary is True and to not in str(refused.value)
    assert await send_one(pool, absent, settings) is True
    row = await pool.fetchrow("SELECT status, attempts, last_error FROM messages WHERE message_id = $1", f"msg-{uid}")
    assert (row["status"], row["attempts"]) == ("pending", 1) and row["last_error"].startswith("SMTP")
    assert await _outbox_types(pool, uid) == []
    await pool.execute("DELETE FROM messages WHERE message_id = $1", f"msg-{uid}")
    await pool.close()
