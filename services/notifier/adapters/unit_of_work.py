"""The notifier's unit of work: its repositories bound to the one connection of a transaction —
`tx.messages` (PgMessages) and `tx.outbox` — and `tx.config`, what the messages depend on beyond
the event (the default locale). The consumer loop builds one per event (bootstrap hands it a
factory with the config); the sender opens its own transaction per message with
`in_transaction(pool)`."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from services.notifier.adapters.catalogue import PgCatalogue, PgMessageProducts
from services.notifier.adapters.consent import PgConsent
from services.notifier.adapters.customers import PgCustomers
from services.notifier.adapters.digests import PgDigests
from services.notifier.adapters.erasure import PgErasure
from services.notifier.adapters.messages import PgMessages
from services.notifier.adapters.order_state import PgOrderState
from services.notifier.adapters.profiles import PgProfiles
from services.notifier.adapters.settings import PgSettings
from services.notifier.adapters.suppressions import PgSuppressions
from services.notifier.domain.messages import MessageConfig
from shared.db.unit_of_work import PgUnitOfWork


class NotifierUnitOfWork(PgUnitOfWork):
    def __init__(self, conn: asyncpg.Connection, config: MessageConfig = MessageConfig()) -> None:
        super().__init__(conn)
        self.messages = PgMessages(conn)
        self.settings = PgSettings(conn, config.store_defaults(), config.flow_defaults)
        self.customers = PgCustomers(conn)
        self.orders = PgOrderState(conn)
        self.consent = PgConsent(conn)  # consent + contact budget (gating.py)
        self.suppressions = PgSuppressions(conn)
        self.digests = PgDigests(conn)
        self.erasure = PgErasure(conn)
        self.profiles = PgProfiles(conn)  # profiles.v1's latest per customer
        self.catalogue = PgCatalogue(conn)  # catalog.v1's products (recommendations, reminders)
        self.message_products = PgMessageProducts(conn)  # which products a message names
        self.config = config


@asynccontextmanager
async def in_transaction(pool: asyncpg.Pool) -> AsyncIterator[NotifierUnitOfWork]:
    """A connection from the pool, a transaction on it, and the unit of work bound to it: committed
    when the block ends, rolled back if it raises."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            yield NotifierUnitOfWork(conn)
