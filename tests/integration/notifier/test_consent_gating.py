"""Consent, suppression, quiet hours, budget, digest and erasure against the real PostgreSQL (a
schema of the test's own) and the real SMTP sink: the sender's rounds (sending.send_batch with
gating's decide) deliver through the pooled SmtpMailer, mail is read back from the sink's HTTP API;
the customer pages run in the app (built, not started: no consumer joins a group) on the same
database.

- a marketing email carries the RFC 8058 headers; POSTing its List-Unsubscribe URL without any
  bearer token unsubscribes; afterwards marketing is suppressed and transactional still arrives;
  a bad token is a 400 and changes nothing;
- quiet hours defer a marketing email (transactional goes at once), then it is delivered;
- the 7-day budget defers the message over it; a digest sends one email for three messages;
- customer.erased leaves neither the address nor the name anywhere in the notifier's tables, keeps
  the counts and the address hash, and a later order for the address stores nothing of it.
"""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone

import httpx

from services.notifier import handlers
from services.notifier.adapters.mailer import SmtpMailer
from services.notifier.adapters.unit_of_work import NotifierUnitOfWork, in_transaction
from services.notifier.bootstrap import MIGRATIONS, channels, link_signer
from services.notifier.config import NotifierSettings
from services.notifier.domain.consent import ERASED, address_hash
from services.notifier.domain.delivery import Plan
from services.notifier.domain.messages import Draft, MessageConfig
from services.notifier.entrypoints.api import create_app
from services.notifier.entrypoints.api_customers import get_transactions
from services.notifier.gating import Gate
from services.notifier.sending import send_batch
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.events.envelope import Envelope, Event, event_id, utcnow
from shared.events.registry import model_for
from tests.support.pg_schema import isolated_schema
from tests.unit.notifier.orders import order_data, order_event

SECRET = "integration-link-secret-0123456789"


class Rig:
    """One notifier's sender and pages on an isolated schema, sending to the real sink."""

    def __init__(self, stack, uid: str, dsn: str) -> None:
        self.uid, self.store, self.key = uid, f"g{uid}", f"g{uid}:c1"
        self.to = f"g-{uid}@example.com"
        self.stack = stack
        self.settings = NotifierSettings(environment="development", database_url=dsn, smtp_port=stack.smtp_port,
                                         link_secret=SECRET, public_base_url="https://n.example")
        self.mailer = SmtpMailer("127.0.0.1", stack.smtp_port, from_address=self.settings.from_address)
        self.gate = Gate(link_signer(self.settings), lease_s=self.settings.send_lease_s)
        self.pool = None

    async def start(self) -> None:
        self.pool = await create_pool(self.settings.database_url, 1, 4)
        await apply_migrations(self.pool, MIGRATIONS, "notifier")

    def tx(self):
        return in_transaction(self.pool)

    async def store_settings(self, **changes) -> None:
        async with self.tx() as tx:
            await tx.settings.put_store(self.store, {"consent_meta_key": "_newsletter", **changes})

    async def handle(self, event: Event) -> None:
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                await handlers.HANDLERS[event.type](event, NotifierUnitOfWork(conn, MessageConfig()))

    async def record(self, mid: str, *, marketing: bool, flow: str, subject: str, due_in_s: float = 0) -> str:
        message_id = f"{self.uid}-{mid}"
        async with self.tx() as tx:
            await tx.messages.record_intent(
                message_id=message_id, cause_event_id=f"e-{message_id}", cause_type="test", customer_key=self.key,
                draft=Draft(flow, self.to, subject, f"text {mid}", f"<html><body><p>html {mid}</p></body></html>"),
                plan=Plan(flow=flow, store_id=self.store, marketing=marketing,
                          due_at=utcnow() + timedelta(seconds=due_in_s)))
        return message_id

    async def send(self, rounds: int = 3) -> None:
        for _ in range(rounds):
            await send_batch(self.tx, channels(self.settings, self.mailer), self.settings, decide=self.gate.decide)

    async def row(self, message_id: str):
        return await self.pool.fetchrow("SELECT status, status_reason, next_attempt_at, sent_at FROM messages"
                                        " WHERE message_id = $1", message_id)

    async def mails(self) -> list[dict]:
        async with httpx.AsyncClient(timeout=10) as client:
            return (await client.get(f"{self.stack.mail_api_url()}/api/messages", params={"to": self.to})).json()

    async def close(self) -> None:
        await self.mailer.close()
        await self.pool.close()


@asynccontextmanager
async def rig(stack, uid):
    async with isolated_schema(stack.service_dsn("notifier"), f"gate_{uid}") as dsn:
        r = Rig(stack, uid, dsn)
        await r.start()
        try:
            yield r
        finally:
            await r.close()


def _app(r: Rig):
    app = create_app(r.settings)
    app.dependency_overrides[get_transactions] = lambda: r.tx
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def _consent(r: Rig) -> None:
    """An order whose consent plugin said yes (the store names its meta key)."""
    await r.handle(order_event("order.placed", order_data(r.store, 1, email=r.to, first_name="Ana",
                                                          consent_meta={"_newsletter": "yes"}), salt=r.uid))


async def test_unsubscribed_by_one_click_no_more_marketing_but_transactional(stack, uid):
    async with rig(stack, uid) as r:
        await r.store_settings()
        await _consent(r)
        first = await r.record("m1", marketing=True, flow="points_earned", subject=f"Points {uid}")
        await r.send()
        [mail] = [m for m in await r.mails() if m["headers"].get("X-Aftercart-Message-Id") == first]
        assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = mail["headers"]["List-Unsubscribe"].strip("<>")
        assert url.startswith("https://n.example/u/") and url in mail["text"]
        path = url.removeprefix("https://n.example")

        async with _app(r) as client:
            bad = await client.post(path[:-3] + "xyz", content="List-Unsubscribe=One-Click",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert bad.status_code == 400
            assert await r.pool.fetchval("SELECT count(*) FROM suppressions") == 0
            done = await client.post(path, content="List-Unsubscribe=One-Click",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert done.status_code == 200
        assert await r.pool.fetchval("SELECT reason FROM suppressions WHERE store_id = $1 AND address_hash = $2",
                                     r.store, address_hash(r.to)) == "unsubscribed"

        second = await r.record("m2", marketing=True, flow="tier_changed", subject=f"Tier {uid}")
        receipt = await r.record("t1", marketing=False, flow="order_shipped", subject=f"Shipped {uid}")
        await r.send()
        assert (await r.row(second))["status"] == "suppressed"
        assert (await r.row(second))["status_reason"] == "unsubscribed"
        assert (await r.row(receipt))["status"] == "sent"
        mine = {first, second, receipt}  # (the order's welcome, transactional, arrived too)
        got = sorted(m["subject"] for m in await r.mails() if m["headers"]["X-Aftercart-Message-Id"] in mine)
        assert got == sorted([f"Points {uid}", f"Shipped {uid}"])
        assert any(m["subject"].startswith("Welcome") for m in await r.mails())
        shipped = next(m for m in await r.mails() if m["subject"] == f"Shipped {uid}")
        assert "List-Unsubscribe" not in shipped["headers"]


async def test_quiet_hours_defer_then_deliver(stack, uid):
    async with rig(stack, uid) as r:
        now = utcnow()
        # Quiet (in UTC: the store's zone, the customer's country unknown) from a minute ago until
        # a few seconds from now, so the deferred email falls due during the test.
        end = now + timedelta(seconds=4)
        await r.store_settings(quiet_hours_start=(now - timedelta(minutes=1)).time().strftime("%H:%M:%S"),
                               quiet_hours_end=end.time().strftime("%H:%M:%S"))
        await r.pool.execute("INSERT INTO consents (customer_key, store_id, marketing, source, changed_at)"
                             " VALUES ($1, $2, true, 'api', now())", r.key, r.store)
        marketing = await r.record("m1", marketing=True, flow="points_available", subject=f"Quiet {uid}")
        receipt = await r.record("t1", marketing=False, flow="order_shipped", subject=f"Now {uid}")
        await r.send(1)
        row = await r.row(marketing)
        assert (row["status"], row["status_reason"]) == ("pending", "quiet_hours")
        assert row["next_attempt_at"] == end.replace(microsecond=0)
        assert (await r.row(receipt))["status"] == "sent"
        assert [m["subject"] for m in await r.mails()] == [f"Now {uid}"]
        for _ in range(40):  # then it goes: polled, never a timed assertion
            await r.send(1)
            if (await r.row(marketing))["status"] == "sent":
                break
            await asyncio.sleep(0.25)
        assert (await r.row(marketing))["status"] == "sent"
        assert sorted(m["subject"] for m in await r.mails()) == sorted([f"Now {uid}", f"Quiet {uid}"])


async def test_budget_defers_and_digest_combines(stack, uid):
    async with rig(stack, uid) as r:
        await r.store_settings(marketing_per_7_days=1)
        await _consent(r)
        one = await r.record("m1", marketing=True, flow="points_earned", subject=f"One {uid}")
        await r.send()
        two = await r.record("m2", marketing=True, flow="review_request", subject=f"Two {uid}")
        await r.send()
        first, second = await r.row(one), await r.row(two)
        assert first["status"] == "sent" and (second["status"], second["status_reason"]) == ("pending", "budget")
        assert abs((second["next_attempt_at"] - (first["sent_at"] + timedelta(days=7))).total_seconds()) < 60

        # A digest: three messages due within the store's window → one email.
        await r.store_settings(marketing_per_7_days=10, digest_window_s=120)
        await r.pool.execute("UPDATE messages SET next_attempt_at = now() + interval '1 hour' WHERE message_id = $1",
                             two)
        a = await r.record("a", marketing=False, flow="order_shipped", subject=f"Shipped {uid}")
        b = await r.record("b", marketing=True, flow="points_earned", subject=f"Points {uid}", due_in_s=30)
        c = await r.record("c", marketing=True, flow="tier_changed", subject=f"Tier {uid}", due_in_s=60)
        await r.send()
        assert [(await r.row(m))["status"] for m in (a, b, c)] == ["sent", "sent", "sent"]
        digests = [m for m in await r.mails() if m["subject"].startswith(f"Shipped {uid}")]
        assert [m["subject"] for m in digests] == [f"Shipped {uid} (+2 more)"]
        assert all(f"text {p}" in digests[0]["text"] for p in "abc")
        assert digests[0]["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert await r.pool.fetchval("SELECT count(DISTINCT digest_id) FROM messages WHERE message_id = ANY($1)",
                                     [a, b, c]) == 1


def _erased(store: str, key: str, customer_id: int, salt: str) -> Event:
    data = {"store_id": store, "customer_id": customer_id, "key": key}
    env = Envelope(id=event_id(store, "customer", customer_id, "customer.erased", salt), source=f"/stores/{store}",
                   type="customer.erased", subject=f"customer/{key}", time=datetime.now(timezone.utc), data=data)
    return Event.parse(env, model_for("customer.erased", 1))


async def _tables_holding(r: Rig, *needles: str) -> list[str]:
    """Every table of the schema whose rows, as text, contain one of `needles` (case-insensitive)."""
    tables = [t["tablename"] for t in await r.pool.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
    found = []
    for table in tables:
        rows = await r.pool.fetch(f'SELECT t::text AS row FROM "{table}" t')
        if any(n.lower() in row["row"].lower() for row in rows for n in needles):
            found.append(table)
    return found


async def test_erasure_leaves_no_address_or_name_and_keeps_counts(stack, uid):
    async with rig(stack, uid) as r:
        await r.store_settings()
        name, last = f"Zelda{uid}", f"Quux{uid}"
        for n, status in ((1, "processing"), (2, "processing")):
            data = order_data(r.store, n, status, email=r.to, first_name=name, consent_meta={"_newsletter": "yes"})
            data["customer"]["last_name"] = last
            await r.handle(order_event("order.placed", data, salt=r.uid))
        await r.send()
        sent = await r.pool.fetchval("SELECT count(*) FROM messages WHERE status = 'sent'")
        assert sent >= 2 and await _tables_holding(r, r.to, name, last)  # it was there

        await r.handle(_erased(r.store, r.key, 1, r.uid))
        assert await _tables_holding(r, r.to, name, last) == []
        assert await r.pool.fetchval("SELECT count(*) FROM messages WHERE status = 'sent'") == sent
        assert await r.pool.fetchval("SELECT reason FROM suppressions WHERE store_id = $1 AND address_hash = $2",
                                     r.store, address_hash(r.to)) == ERASED

        # A later order for the same address: nothing of it is stored, nothing is sent.
        later = order_data(r.store, 3, email=r.to, first_name=name)
        await r.handle(order_event("order.placed", later, salt=r.uid))
        await r.send()
        assert await _tables_holding(r, r.to, name) == []
        assert await r.pool.fetchval("SELECT count(*) FROM messages WHERE status = 'sent'") == sent


async def test_a_customers_budget_is_held_by_one_transaction_and_only_tried_by_another(stack, uid):
    from services.notifier.adapters.consent import PgConsent

    async with rig(stack, uid) as r:
        async with r.pool.acquire() as a, r.pool.acquire() as b:
            async with a.transaction():
                assert await PgConsent(a).lock_customer(r.key) is True
                assert await PgConsent(a).lock_customer(r.key) is True  # its own again: fine
                async with b.transaction():
                    assert await PgConsent(b).lock_customer(r.key) is False  # no wait, no deadlock
                    assert await PgConsent(b).lock_customer(f"{r.key}x") is True
            async with b.transaction():
                assert await PgConsent(b).lock_customer(r.key) is True  # released with a's commit
