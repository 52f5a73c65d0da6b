"""LoyaltyUnitOfWork: what loyalty's handlers receive as `tx` — the ledger and the outbox bound to
the consumer's one transaction, and the points rules' settings. bootstrap.py hands the shared
consumer loop a factory of it (functools.partial with the config)."""
from __future__ import annotations

import asyncpg

from services.loyalty.adapters.ledger import PgLedger
from services.loyalty.domain.points import PointsConfig
from shared.db.unit_of_work import PgUnitOfWork


class LoyaltyUnitOfWork(PgUnitOfWork):
    def __init__(self, conn: asyncpg.Connection, config: PointsConfig = PointsConfig()) -> None:
        super().__init__(conn)
        self.ledger = PgLedger(conn)
        self.config = config
