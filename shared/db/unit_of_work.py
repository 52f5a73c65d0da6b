"""The base of every service's unit of work: repositories bound to the one connection of the
consumer's transaction. Each service extends it with its own repositories (e.g. loyalty's
`tx.ledger`) in its adapters/, and bootstrap hands the class to the consumer loop as the factory
that builds `tx` for each event. shared/testing/unit_of_work.py is its in-memory twin."""
from __future__ import annotations

import asyncpg

from shared.db.outbox import PgOutbox


class PgUnitOfWork:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.outbox = PgOutbox(conn)
