"""PgCustomers and PgOrderState against the real PostgreSQL: the record built from order events,
the guest merge on customer.linked, and the latest order status that a late event never overwrites."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.notifier.adapters.customers import PgCustomers
from services.notifier.adapters.order_state import PgOrderState
from services.notifier.bootstrap import MIGRATIONS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from tests.support.pg_schema import isolated_schema

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


async def test_customer_record_and_merge(stack, uid):
    async with isolated_schema(stack.service_dsn("notifier"), f"cus_{uid}") as dsn:
        pool = await create_pool(dsn, 1, 2)
        try:
            await apply_migrations(pool, MIGRATIONS, "notifier")
            repo = PgCustomers(pool)
            seen = dict(store_id="s1", email="ana@example.com", first_name="Ana", locale=None, country="DE")
            await repo.saw_order(key="s1:eg", order_id=5, new_order=True, at=T0, **seen)
            await repo.saw_order(key="s1:eg", order_id=5, new_order=False, at=T0, **{**seen, "email": None})
            g = await repo.get("s1:eg")
            assert (g.orders_seen, g.first_order_id, g.first_order_at, g.email) == (1, 5, T0, "ana@example.com")
            await repo.saw_profile(store_id="s1", key="s1:c1", email="ana@example.com", first_name=None,
                                   locale="de_DE", country=None)
            await repo.saw_order(key="s1:c1", order_id=9, new_order=True, at=T0 + timedelta(days=3), **seen)
            assert await repo.link(store_id="s1", from_key="s1:eg", to_key="s1:c1") is True
            assert await repo.link(store_id="s1", from_key="s1:eg", to_key="s1:c1") is False  # redelivered
            m = await repo.get("s1:eg")
            assert (m.customer_key, m.orders_seen, m.first_order_id, m.first_order_at, m.locale, m.first_name) == (
                "s1:c1", 2, 5, T0, "de_DE", "Ana")
            # An order event still keyed by the guest lands on the survivor.
            await repo.saw_order(key="s1:eg", order_id=11, new_order=True, at=T0 + timedelta(days=9), **seen)
            assert (await repo.get("s1:c1")).orders_seen == 3
            await repo.set_consent(store_id="s1", key="s1:eg", consent=True)
            assert (await repo.get("s1:c1")).consent is True
        finally:
            await pool.close()


async def test_order_state_keeps_the_newest_status(stack, uid):
    async with isolated_schema(stack.service_dsn("notifier"), f"ord_{uid}") as dsn:
        pool = await create_pool(dsn, 1, 2)
        try:
            await apply_migrations(pool, MIGRATIONS, "notifier")
            repo = PgOrderState(pool)
            kw = dict(store_id="s1", order_id=7, customer_key="s1:c1")
            assert await repo.track(**kw, status="processing", event_time=T0, data={"order_number": "7"}) == (
                True, "processing")
            assert await repo.track(**kw, status="completed", event_time=T0 + timedelta(minutes=1),
                                    data={"order_number": "7", "x": 1}) == (False, "completed")
            assert await repo.track(**kw, status="on-hold", event_time=T0 - timedelta(minutes=1),
                                    data={"old": True}) == (False, "completed")  # late and older: ignored
            assert await repo.status("s1", 7) == "completed" and await repo.status("s1", 8) is None
            assert await repo.last_event("s1", 7) == {"order_number": "7", "x": 1}
            await repo.track(**kw, status="trash", event_time=T0 + timedelta(minutes=2), data=None)
            assert await repo.last_event("s1", 7) == {"order_number": "7", "x": 1}  # None keeps what was known
        finally:
            await pool.close()
