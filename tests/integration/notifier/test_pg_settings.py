"""PgSettings against the real PostgreSQL: a store's own settings over the defaults, flow rows."""
from __future__ import annotations

from services.notifier.adapters.settings import PgSettings
from services.notifier.bootstrap import MIGRATIONS
from services.notifier.domain.store_settings import FlowSettings, StoreSettings
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from tests.support.pg_schema import isolated_schema


async def test_store_and_flow_settings_round_trip(stack, uid):
    async with isolated_schema(stack.service_dsn("notifier"), f"set_{uid}") as dsn:
        pool = await create_pool(dsn, 1, 2)
        try:
            await apply_migrations(pool, MIGRATIONS, "notifier")
            repo = PgSettings(pool, StoreSettings.defaults(locale="de"))
            assert await repo.store("s1") == StoreSettings.defaults(locale="de")
            await repo.put_store("s1", {"store_name": "Kaffee & Co", "timezone": "Europe/Berlin"})
            await repo.put_store("s1", {"returns_url": "https://kaffee.example/returns"})
            s1 = await repo.store("s1")
            assert (s1.store_name, s1.timezone, s1.returns_url, s1.locale) == (
                "Kaffee & Co", "Europe/Berlin", "https://kaffee.example/returns", "de")
            assert await repo.store_overrides("s1") == {
                "store_name": "Kaffee & Co", "timezone": "Europe/Berlin", "returns_url": "https://kaffee.example/returns"}
            assert await repo.flow("s1", "review_request") == FlowSettings(marketing=True)
            await repo.put_flow("s1", "order_completed", FlowSettings(delay_s=600, channel="webhook"))
            assert await repo.flow("s1", "order_completed") == FlowSettings(delay_s=600, channel="webhook")
            flows = await repo.flows("s1")
            assert flows["order_completed"].delay_s == 600 and flows["order_thanks"].delay_s == 0
        finally:
            await pool.close()


async def test_flow_defaults_from_the_settings_until_a_store_sets_its_own(stack, uid):
    from services.notifier.domain.store_settings import FlowDefaults

    async with isolated_schema(stack.service_dsn("notifier"), f"fdf_{uid}") as dsn:
        pool = await create_pool(dsn, 1, 2)
        try:
            await apply_migrations(pool, MIGRATIONS, "notifier")
            repo = PgSettings(pool, flow_defaults={"order_completed": FlowDefaults(delay_s=600, marketing=True)})
            assert await repo.flow("s1", "order_completed") == FlowSettings(delay_s=600, marketing=True)
            await repo.put_flow("s1", "order_completed", FlowSettings())
            assert await repo.flow("s1", "order_completed") == FlowSettings()
            assert (await repo.flows("s2"))["order_completed"].delay_s == 600
        finally:
            await pool.close()


async def test_a_stored_value_gone_bad_falls_back_to_its_default(stack, uid):
    async with isolated_schema(stack.service_dsn("notifier"), f"bad_{uid}") as dsn:
        pool = await create_pool(dsn, 1, 2)
        try:
            await apply_migrations(pool, MIGRATIONS, "notifier")
            # As if a validation rule tightened after this was stored: the store keeps working.
            await pool.execute("INSERT INTO store_settings (store_id, settings) VALUES ('s1',"
                               " '{\"store_name\": \"Kaffee\", \"timezone\": \"Mars/Base\"}'::jsonb)")
            s = await PgSettings(pool).store("s1")
            assert (s.store_name, s.timezone) == ("Kaffee", "UTC")
        finally:
            await pool.close()
