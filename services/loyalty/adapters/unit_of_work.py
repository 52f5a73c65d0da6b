"""LoyaltyUnitOfWork: what loyalty's handlers receive as `tx` — the ledger, the orders' facts, the
customer links, the stores' rules and the outbox, all bound to the consumer's one transaction, and
the clock. bootstrap.py hands the shared consumer loop a factory of it (functools.partial with the
default rules)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import asyncpg

from services.loyalty.adapters.catalog import PgCatalog
from services.loyalty.adapters.erasure import PgErasure
from services.loyalty.adapters.ledger import PgLedger
from services.loyalty.adapters.links import PgCustomerLinks
from services.loyalty.adapters.members import PgMembers
from services.loyalty.adapters.order_facts import PgOrderFacts
from services.loyalty.adapters.redemptions import PgRedemptions
from services.loyalty.adapters.referrals import PgReferrals
from services.loyalty.adapters.statistics import PgAdjustments
from services.loyalty.adapters.store_rules import PgStoreRules
from services.loyalty.domain.rules import EarningRules
from shared.db.unit_of_work import PgUnitOfWork
from shared.events.envelope import utcnow


class LoyaltyUnitOfWork(PgUnitOfWork):
    def __init__(self, conn: asyncpg.Connection, defaults: EarningRules = EarningRules(),
                 now: Callable[[], datetime] = utcnow) -> None:
        super().__init__(conn)
        self.ledger = PgLedger(conn)
        self.orders = PgOrderFacts(conn)
        self.links = PgCustomerLinks(conn)
        self.rules = PgStoreRules(conn, defaults)
        self.members = PgMembers(conn)
        self.catalog = PgCatalog(conn)
        self.erasure = PgErasure(conn)
        self.redemptions = PgRedemptions(conn)
        self.referrals = PgReferrals(conn)
        self.adjustments = PgAdjustments(conn)
        self.now = now
