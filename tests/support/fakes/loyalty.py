"""Loyalty's adapters in memory, with the same async methods and the same rules: MemoryLedger
(PgLedger: an entry id already present is ignored, sums per order and bucket, the balance has every
bucket, entries come newest first), MemoryOrderFacts (PgOrderFacts), MemoryLinks (PgCustomerLinks),
MemoryStoreRules (PgStoreRules), MemoryMembers, MemoryCatalog, MemoryErasure, MemoryReferrals, MemoryRedemptions,
FakeWooCoupons (WooCoupons), and `memory_tx`, LoyaltyUnitOfWork's in-memory twin.

    tx = memory_tx(EarningRules(), now=Clock().now)
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from shared.events.envelope import utcnow

if TYPE_CHECKING:
    from services.loyalty.domain.ledger import LedgerEntry
    from services.loyalty.domain.order_points import OrderFacts
    from services.loyalty.domain.rules import EarningRules


class MemoryLedger:
    def __init__(self, now: Callable[[], datetime] = utcnow) -> None:
        """`now` stamps `created_at` (PostgreSQL's now()); pass a Clock's `now` to control it."""
        self.now = now
        self.rows: list[LedgerEntry] = []

    async def append(self, *, entry_id: str, cause_event_id: str, customer_key: str, store_id: str,
                     order_id: int | None, bucket: str, points: int, reason: str) -> bool:
        # Imported here, not at module level: shared/ must not need services/ at import time.
        from services.loyalty.domain.ledger import LedgerEntry

        if any(r.entry_id == entry_id for r in self.rows):
            return False
        self.rows.append(LedgerEntry(entry_id=entry_id, cause_event_id=cause_event_id, customer_key=customer_key,
                                     store_id=store_id, order_id=order_id, bucket=bucket, points=points,
                                     reason=reason, created_at=self.now()))
        return True

    async def order_points(self, store_id: str, order_id: int, bucket: str) -> int:
        return sum(r.points for r in self.rows
                   if r.store_id == store_id and r.order_id == order_id and r.bucket == bucket)

    async def order_position(self, store_id: str, order_id: int) -> tuple[int, int]:
        return (await self.order_points(store_id, order_id, "pending"),
                await self.order_points(store_id, order_id, "available"))

    async def earned_for_order(self, store_id: str, order_id: int) -> int:
        return sum(r.points for r in self.rows
                   if r.store_id == store_id and r.order_id == order_id and r.reason == "order.paid")

    async def holdings(self, customer_key: str) -> list[tuple[str, int | None, str, int]]:
        sums: dict[tuple, int] = {}
        for r in self.rows:
            if r.customer_key == customer_key:
                k = (r.store_id, r.order_id, r.bucket)
                sums[k] = sums.get(k, 0) + r.points
        return [(*k, v) for k, v in sorted(sums.items(), key=lambda kv: (kv[0][0], kv[0][1] is not None,
                                                                         kv[0][1] or 0, kv[0][2])) if v]

    async def balance(self, customer_key: str) -> dict[str, int]:
        from services.loyalty.domain.ledger import empty_balance

        out = empty_balance()
        for r in self.rows:
            if r.customer_key == customer_key:
                out[r.bucket] = out.get(r.bucket, 0) + r.points
        return out

    async def entries(self, customer_key: str, limit: int = 500, offset: int = 0) -> list[LedgerEntry]:
        mine = sorted((r for r in self.rows if r.customer_key == customer_key), key=lambda r: r.entry_id)
        return sorted(mine, key=lambda r: r.created_at, reverse=True)[offset:offset + limit]


class MemoryOrderFacts:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], OrderFacts] = {}

    async def get(self, store_id: str, order_id: int) -> OrderFacts | None:
        return self.rows.get((store_id, order_id))

    async def put(self, facts: OrderFacts) -> None:
        # Through JSON, as PostgreSQL stores it: what doesn't survive the trip fails here too.
        from services.loyalty.domain.order_points import OrderFacts as Facts

        self.rows[(facts.store_id, facts.order_id)] = Facts.from_json(facts.store_id, facts.order_id,
                                                                     facts.customer_key, facts.to_json())

    async def of_customer(self, customer_key: str) -> list[OrderFacts]:
        return [f for k, f in sorted(self.rows.items()) if f.customer_key == customer_key]

    async def has_award(self, customer_key: str, exclude_order: tuple[str, int]) -> bool:
        return any(f.customer_key == customer_key and f.award is not None and k != exclude_order
                   for k, f in self.rows.items())

    async def due_to_mature(self, store_id: str, paid_before: datetime, limit: int = 500) -> list[int]:
        return sorted(o for (s, o), f in self.rows.items() if s == store_id and f.award is not None
                      and not f.matured and f.paid_at is not None and f.paid_at < paid_before)[:limit]

    async def stores(self) -> list[str]:
        return sorted({s for s, _ in self.rows})

    async def rekey(self, from_key: str, to_key: str) -> int:
        moved = [k for k, f in self.rows.items() if f.customer_key == from_key]
        for k in moved:
            self.rows[k] = self.rows[k].with_customer(to_key)
        return len(moved)


class MemoryLinks:
    def __init__(self) -> None:
        self.links: dict[str, str] = {}

    async def link(self, from_key: str, to_key: str, cause_event_id: str) -> bool:
        if from_key in self.links:
            return False
        self.links[from_key] = to_key
        return True

    async def canonical(self, key: str) -> str:
        seen = {key}
        for _ in range(5):
            nxt = self.links.get(key)
            if nxt is None or nxt in seen:
                return key
            seen.add(nxt)
            key = nxt
        return key


class MemoryStoreRules:
    def __init__(self, defaults: EarningRules) -> None:
        self.defaults = defaults
        self.rows: dict[str, dict] = {}

    async def for_store(self, store_id: str) -> EarningRules:
        from services.loyalty.domain.rules import rules_from_json

        raw = self.rows.get(store_id)
        return self.defaults if raw is None else rules_from_json(raw, self.defaults)

    async def put(self, store_id: str, rules: EarningRules) -> None:
        from services.loyalty.domain.rules import rules_to_json

        self.rows[store_id] = rules_to_json(rules)

    async def put_json(self, store_id: str, fields: dict) -> None:
        self.rows[store_id] = dict(fields)


def memory_tx(defaults: EarningRules | None = None, now: Callable[[], datetime] = utcnow):
    """LoyaltyUnitOfWork's in-memory twin: every repository a loyalty handler uses, and the clock."""
    from services.loyalty.domain.rules import EarningRules
    from shared.testing import InMemoryUnitOfWork

    ledger, orders, links, members = MemoryLedger(now=now), MemoryOrderFacts(), MemoryLinks(), MemoryMembers()
    referrals = MemoryReferrals()
    return InMemoryUnitOfWork(ledger=ledger, orders=orders, links=links, members=members, catalog=MemoryCatalog(),
                              erasure=MemoryErasure(ledger, orders, links, members, referrals), referrals=referrals,
                              rules=MemoryStoreRules(defaults or EarningRules()), redemptions=MemoryRedemptions(now),
                              now=now)


class MemoryMembers:
    def __init__(self) -> None:
        self.rows: dict[str, dict] = {}

    async def get(self, customer_key: str):
        from services.loyalty.adapters.members import Member

        row = self.rows.get(customer_key)
        return None if row is None else Member(customer_key=customer_key, store_id=row["store_id"],
                                               email=row["email"], tier=row["tier"])

    async def seen(self, customer_key: str, store_id: str, email: str | None) -> None:
        row = self.rows.setdefault(customer_key, {"store_id": store_id, "email": None, "tier": None})
        row["email"] = email or row["email"]

    async def change_tier(self, customer_key: str, store_id: str, tier: str | None, at: datetime):
        await self.seen(customer_key, store_id, None)
        old = self.rows[customer_key]["tier"]
        if old == tier:
            return False
        self.rows[customer_key]["tier"] = tier
        return old

    async def tiered(self, store_id: str) -> list[str]:
        return sorted(k for k, r in self.rows.items() if r["store_id"] == store_id and r["tier"] is not None)

    async def lock(self, customer_key: str):
        return await self.get(customer_key)

    async def touch(self, customer_key: str, store_id: str, at: datetime) -> None:
        self.rows.setdefault(customer_key, {"store_id": store_id, "email": None, "tier": None})
        row = self.rows[customer_key]
        row["last"] = max(filter(None, [row.get("last"), at]))

    async def inactive_since(self, store_id: str, before: datetime, limit: int = 500):
        # (Without the ledger at hand: the caller checks the balance, as it does with PgMembers.)
        found = sorted((r["last"], k) for k, r in self.rows.items()
                       if r["store_id"] == store_id and r.get("last") is not None and r["last"] < before)
        return [(k, last) for last, k in found][:limit]

    async def stores(self) -> list[str]:
        return sorted({r["store_id"] for r in self.rows.values()})

    async def set_birthday(self, customer_key: str, store_id: str, month: int, day: int) -> None:
        await self.seen(customer_key, store_id, None)
        self.rows[customer_key]["birthday"] = (month, day)

    async def born_on(self, store_id: str, days: list[tuple[int, int]]) -> list[str]:
        return sorted(k for k, r in self.rows.items() if r["store_id"] == store_id and r.get("birthday") in days)


class MemoryCatalog:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], list[int]] = {}

    async def put(self, store_id: str, product_id: int, category_ids: list[int]) -> None:
        self.rows[(store_id, product_id)] = list(category_ids)

    async def categories(self, store_id: str, product_ids) -> dict[int, list[int]]:
        return {p: self.rows[(store_id, p)] for p in product_ids if (store_id, p) in self.rows}


class MemoryErasure:
    """PgErasure over the other in-memory repositories of one unit of work."""

    def __init__(self, ledger: MemoryLedger, orders: MemoryOrderFacts, links: MemoryLinks,
                 members: MemoryMembers, referrals: MemoryReferrals | None = None) -> None:
        self.ledger, self.orders, self.links, self.members = ledger, orders, links, members
        self.referrals = referrals

    async def erase(self, customer_key: str, pseudonym: str) -> int:
        from dataclasses import replace

        keys = {customer_key} | {f for f, t in self.links.links.items() if t == customer_key}
        moved = 0
        for i, r in enumerate(self.ledger.rows):
            if r.customer_key in keys:
                self.ledger.rows[i] = replace(r, customer_key=pseudonym)
                moved += 1
        for k, f in list(self.orders.rows.items()):
            if f.customer_key in keys:
                self.orders.rows[k] = f.with_customer(pseudonym)
        self.links.links = {f: t for f, t in self.links.links.items() if f not in keys and t not in keys}
        for k in keys:
            self.members.rows.pop(k, None)
        if self.referrals is not None:
            self.referrals.codes = {c: v for c, v in self.referrals.codes.items() if v[0] not in keys}
            self.referrals.rows = {(pseudonym if k in keys else k): {**r, "referrer_key": pseudonym
                                                                     if r["referrer_key"] in keys else r["referrer_key"]}
                                   for k, r in self.referrals.rows.items()}
        return moved


class MemoryReferrals:
    def __init__(self) -> None:
        self.codes: dict[str, tuple[str, str]] = {}
        self.rows: dict[str, dict] = {}

    async def code_for(self, customer_key: str, store_id: str, code: str) -> str:
        mine = next((c for c, (k, _) in self.codes.items() if k == customer_key), None)
        if mine is None:
            self.codes[code] = (customer_key, store_id)
            mine = code
        return mine

    async def owner(self, code: str) -> str | None:
        return self.codes.get(code, (None, None))[0]

    async def add(self, *, referred_key: str, referrer_key: str, store_id: str, status: str, reason: str | None) -> bool:
        if referred_key in self.rows:
            return False
        self.rows[referred_key] = {"referrer_key": referrer_key, "store_id": store_id, "status": status,
                                   "reason": reason, "order_id": None}
        return True

    async def get(self, referred_key: str, *, lock: bool = False):
        from services.loyalty.adapters.referrals import Referral

        row = self.rows.get(referred_key)
        return None if row is None else Referral(referred_key=referred_key, **row)

    async def settle(self, referred_key: str, status: str, *, reason: str | None = None,
                     order_id: int | None = None) -> None:
        self.rows[referred_key].update(status=status, reason=reason, order_id=order_id)


class MemoryRedemptions:
    def __init__(self, now: Callable[[], datetime] = utcnow) -> None:
        self.rows: dict[str, dict] = {}
        self.now = now

    async def get(self, redemption_id: str, *, lock: bool = False):
        from services.loyalty.adapters.redemptions import Redemption

        row = self.rows.get(redemption_id)
        return None if row is None else Redemption(**{k: v for k, v in row.items() if k not in ("last_error",
                                                                                                 "updated_at")})

    async def create(self, *, redemption_id: str, customer_key: str, store_id: str, points: int, amount, currency: str,
                     minimum_amount, code: str, expires_at: datetime) -> None:
        if any(r["code"] == code for r in self.rows.values()) or redemption_id in self.rows:
            raise ValueError("duplicate redemption")  # PostgreSQL's unique violation
        self.rows[redemption_id] = dict(
            redemption_id=redemption_id, customer_key=customer_key, store_id=store_id, points=points, amount=amount,
            currency=currency, minimum_amount=minimum_amount, code=code, expires_at=expires_at, status="held",
            coupon_id=None, attempts=0, created_at=self.now(), last_error=None, updated_at=self.now())

    async def settle(self, redemption_id: str, status: str, *, coupon_id: int | None = None) -> bool:
        row = self.rows[redemption_id]
        if row["status"] != "held":
            return False
        row.update(status=status, coupon_id=coupon_id, updated_at=self.now())
        return True

    async def attempted(self, redemption_id: str, error: str) -> None:
        row = self.rows[redemption_id]
        row.update(attempts=row["attempts"] + 1, last_error=error[:200], updated_at=self.now())

    async def held(self, older_than: datetime, limit: int = 100):
        return [await self.get(k) for k, r in sorted(self.rows.items(), key=lambda kv: kv[1]["created_at"])
                if r["status"] == "held" and r["updated_at"] < older_than][:limit]


class FakeWooCoupons:
    """WooCoupons' interface over an in-memory store: `down` makes every call unreachable,
    `lose_answers` makes that many creations happen but their answers get lost, `refuse` answers
    every creation with that WooCommerce error code."""

    def __init__(self) -> None:
        self.coupons: dict[int, dict] = {}
        self.down, self.lose_answers, self.refuse = False, 0, None
        self.calls: list[str] = []

    async def find_by_code(self, code: str) -> dict | None:
        from services.loyalty.adapters.woo_coupons import WooUnavailable

        self.calls.append(f"GET {code}")
        if self.down:
            raise WooUnavailable("ConnectError")
        return next((c for c in self.coupons.values() if c["code"] == code), None)

    async def create(self, body: dict) -> dict:
        from services.loyalty.adapters.woo_coupons import WooRefused, WooUnavailable

        self.calls.append(f"POST {body['code']}")
        if self.down:
            raise WooUnavailable("ConnectError")
        if self.refuse:
            raise WooRefused(400, self.refuse)
        if any(c["code"] == body["code"] for c in self.coupons.values()):
            raise WooRefused(400, "woocommerce_rest_coupon_code_already_exists")
        coupon = {**body, "id": 100 + len(self.coupons)}
        self.coupons[coupon["id"]] = coupon
        if self.lose_answers:
            self.lose_answers -= 1
            raise WooUnavailable("ReadTimeout")
        return coupon
