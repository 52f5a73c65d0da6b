"""PgSettings: per-store settings (`store_settings`, JSON of the fields a store changed) and per-flow
settings (`flow_settings`), over the defaults (NotifierSettings → StoreSettings.defaults, the flow
registry, changed service-wide by NotifierSettings.flow_defaults). Only what a store set is stored, so a changed default reaches every store that kept it.
tests/support/fakes/notifier.py's MemorySettings is its in-memory twin.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import asyncpg

from services.notifier.domain.flows import FLOWS, flow_defaults
from services.notifier.domain.store_settings import FlowDefaults, FlowSettings, StoreSettings
from shared.logging import get_logger

log = get_logger(__name__)


class PgSettings:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool, defaults: StoreSettings | None = None,
                 flow_defaults: Mapping[str, FlowDefaults] | None = None) -> None:
        self.db = db
        self.defaults = defaults or StoreSettings.defaults()
        self.flow_defaults = dict(flow_defaults or {})
        # Read once per instance (one transaction, or one API request): an event that records
        # several flows, a sender deciding a batch, reads a store's rows once.
        self._stores: dict[str, StoreSettings] = {}
        self._flows: dict[str, dict[str, FlowSettings]] = {}

    async def store_overrides(self, store_id: str) -> dict[str, Any]:
        raw = await self.db.fetchval("SELECT settings::text FROM store_settings WHERE store_id = $1", store_id)
        return json.loads(raw) if raw else {}

    async def store(self, store_id: str) -> StoreSettings:
        """The store's settings: its own over the defaults (stored values were validated when set)."""
        if store_id not in self._stores:
            overrides = await self.store_overrides(store_id)
            settings, dropped = self.defaults.stored(overrides) if overrides else (self.defaults, [])
            if dropped:
                log.warning("store_settings_fields_ignored", store_id=store_id, fields=dropped)
            self._stores[store_id] = settings
        return self._stores[store_id]

    async def put_store(self, store_id: str, changes: dict[str, Any]) -> None:
        """Store `changes` (already validated, JSON-ready) over what the store had set."""
        self._stores.pop(store_id, None)
        await self.db.execute(
            "INSERT INTO store_settings (store_id, settings) VALUES ($1, $2::jsonb)"
            " ON CONFLICT (store_id) DO UPDATE SET settings = store_settings.settings || EXCLUDED.settings,"
            " updated_at = now()", store_id, json.dumps(changes))

    async def flow(self, store_id: str, flow: str) -> FlowSettings:
        return (await self.flows(store_id))[flow]

    async def flows(self, store_id: str) -> dict[str, FlowSettings]:
        """Every flow's settings for the store (one statement; its rows over the defaults)."""
        if store_id not in self._flows:
            rows = await self.db.fetch(
                "SELECT flow, enabled, delay_s, channel, marketing FROM flow_settings WHERE store_id = $1", store_id)
            stored = {r["flow"]: FlowSettings(**{k: r[k] for k in ("enabled", "delay_s", "channel", "marketing")})
                      for r in rows}
            self._flows[store_id] = {name: stored.get(name) or flow_defaults(name, self.flow_defaults)
                                     for name in FLOWS}
        return dict(self._flows[store_id])

    async def put_flow(self, store_id: str, flow: str, settings: FlowSettings) -> None:
        self._flows.pop(store_id, None)
        await self.db.execute(
            "INSERT INTO flow_settings (store_id, flow, enabled, delay_s, channel, marketing)"
            " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (store_id, flow) DO UPDATE SET enabled = EXCLUDED.enabled,"
            " delay_s = EXCLUDED.delay_s, channel = EXCLUDED.channel, marketing = EXCLUDED.marketing,"
            " updated_at = now()",
            store_id, flow, settings.enabled, settings.delay_s, settings.channel, settings.marketing)
