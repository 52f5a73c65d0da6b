"""PgReviewRequests: review requests and their items in PostgreSQL — loaded and saved whole by the
handlers and the scheduler (bound to one transaction), listed by the API (bound to the pool).
Due requests are claimed with FOR UPDATE SKIP LOCKED, so several reviews instances share the work
and never send one twice. tests/support/fakes/reviews.py's MemoryReviewRequests is its in-memory twin.
"""
from __future__ import annotations

from datetime import datetime

import asyncpg

from services.reviews.domain.review_requests import RequestItem, ReviewRequestRecord

# Connection (a unit of work's transaction) or pool (the API's reads): both answer fetch/fetchval.
Executor = asyncpg.Connection | asyncpg.Pool

_COLUMNS = ("request_id, cause_event_id, store_id, order_id, customer_key, product_ids, status, due_at, created_at,"
            " order_number, locale, email, first_name, shipping_country, basis, basis_at, sent_at, reminder_due_at,"
            " reminded_at, answered_at, status_reason, updated_at")
_ITEMS = ("SELECT request_id, product_id, name, line_ids, quantity, refunded_quantity, status"
          " FROM review_request_items WHERE request_id = ANY($1::text[]) ORDER BY request_id, position")


class PgReviewRequests:
    def __init__(self, db: Executor) -> None:
        self.db = db

    async def _with_items(self, rows: list[asyncpg.Record]) -> list[ReviewRequestRecord]:
        if not rows:
            return []
        items: dict[str, list[RequestItem]] = {}
        for i in await self.db.fetch(_ITEMS, [r["request_id"] for r in rows]):
            items.setdefault(i["request_id"], []).append(RequestItem(
                product_id=i["product_id"], name=i["name"], line_ids=tuple(i["line_ids"]), quantity=i["quantity"],
                refunded_quantity=i["refunded_quantity"], status=i["status"]))
        return [ReviewRequestRecord(**dict(r), items=tuple(items.get(r["request_id"], ()))) for r in rows]

    async def add(self, req: ReviewRequestRecord) -> bool:
        """Store a new request with its items; False (nothing written) when its id or its order
        already has one."""
        created = await self.db.fetchval(
            "INSERT INTO review_requests (request_id, cause_event_id, store_id, order_id, customer_key, product_ids,"
            " status, due_at, order_number, locale, email, first_name, shipping_country, basis, basis_at)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) ON CONFLICT DO NOTHING RETURNING 1",
            req.request_id, req.cause_event_id, req.store_id, req.order_id, req.customer_key, req.product_ids,
            req.status, req.due_at, req.order_number, req.locale, req.email, req.first_name, req.shipping_country,
            req.basis, req.basis_at)
        if created:
            await self._write_items(req)
        return bool(created)

    async def _write_items(self, req: ReviewRequestRecord) -> None:
        items = req.items
        await self.db.execute(
            "INSERT INTO review_request_items (request_id, product_id, position, name, line_ids, quantity,"
            " refunded_quantity, status) SELECT $1, t.product_id, t.position, t.name, t.line_ids::bigint[], t.quantity,"
            " t.refunded, t.status FROM unnest($2::bigint[], $3::int[], $4::text[], $5::text[],"
            " $6::int[], $7::int[], $8::text[]) AS t(product_id, position, name, line_ids, quantity, refunded, status)"
            " ON CONFLICT (request_id, product_id) DO UPDATE SET refunded_quantity = excluded.refunded_quantity,"
            " status = excluded.status",
            req.request_id, [i.product_id for i in items], list(range(len(items))), [i.name for i in items],
            # bigint[][] can't be ragged: each item's line ids travel as text and are cast back below.
            ["{" + ",".join(map(str, i.line_ids)) + "}" for i in items], [i.quantity for i in items],
            [i.refunded_quantity for i in items], [i.status for i in items])

    async def save(self, req: ReviewRequestRecord) -> None:
        """Write back what the domain changed (status, times, items)."""
        await self.db.execute(
            "UPDATE review_requests SET product_ids = $2, status = $3, due_at = $4, basis = $5, basis_at = $6,"
            " sent_at = $7, reminder_due_at = $8, reminded_at = $9, answered_at = $10, status_reason = $11,"
            " email = $12, first_name = $13, customer_key = $14, updated_at = now() WHERE request_id = $1",
            req.request_id, req.product_ids, req.status, req.due_at, req.basis, req.basis_at, req.sent_at,
            req.reminder_due_at, req.reminded_at, req.answered_at, req.status_reason, req.email, req.first_name,
            req.customer_key)
        await self._write_items(req)

    async def for_order(self, store_id: str, order_id: int) -> ReviewRequestRecord | None:
        """The order's request, locked for the rest of the transaction (a handler changes it)."""
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM review_requests WHERE store_id = $1 AND order_id = $2"
                                   " FOR UPDATE", store_id, order_id)
        found = await self._with_items(rows)
        return found[0] if found else None

    async def get(self, request_id: str, *, lock: bool = False) -> ReviewRequestRecord | None:
        rows = await self.db.fetch(f"SELECT {_COLUMNS} FROM review_requests WHERE request_id = $1"
                                   + (" FOR UPDATE" if lock else ""), request_id)
        found = await self._with_items(rows)
        return found[0] if found else None

    async def claim_due(self, now: datetime, limit: int) -> list[ReviewRequestRecord]:
        """Pending requests due by `now`, oldest first, locked; rows another instance holds are skipped."""
        return await self._with_items(await self.db.fetch(
            f"SELECT {_COLUMNS} FROM review_requests WHERE status = 'pending' AND due_at <= $1"
            " ORDER BY due_at, request_id LIMIT $2 FOR UPDATE SKIP LOCKED", now, limit))

    async def claim_reminders(self, now: datetime, limit: int) -> list[ReviewRequestRecord]:
        """Sent, unanswered requests whose reminder is due by `now`, locked like claim_due."""
        return await self._with_items(await self.db.fetch(
            f"SELECT {_COLUMNS} FROM review_requests WHERE status = 'sent' AND reminder_due_at <= $1"
            " ORDER BY reminder_due_at, request_id LIMIT $2 FOR UPDATE SKIP LOCKED", now, limit))

    async def claim_products(self, req: ReviewRequestRecord, product_ids: list[int], now: datetime) -> list[int]:
        """Mark these products as asked about for this customer; returns those this request may ask
        about (never asked before, or asked by this very request)."""
        rows = await self.db.fetch(
            "WITH ins AS (INSERT INTO asked_products (store_id, customer_key, product_id, request_id, asked_at)"
            " SELECT $1, $2, p, $3, $5 FROM unnest($4::bigint[]) AS p ON CONFLICT DO NOTHING RETURNING product_id)"
            " SELECT product_id FROM ins UNION SELECT product_id FROM asked_products WHERE store_id = $1"
            " AND customer_key = $2 AND request_id = $3 AND product_id = ANY($4::bigint[])",
            req.store_id, req.customer_key, req.request_id, product_ids, now)
        return sorted(r["product_id"] for r in rows)

    async def for_customer(self, customer_key: str, limit: int = 200) -> list[ReviewRequestRecord]:
        """The customer's requests, newest first."""
        return await self._with_items(await self.db.fetch(
            f"SELECT {_COLUMNS} FROM review_requests WHERE customer_key = $1 ORDER BY created_at DESC, request_id"
            " LIMIT $2", customer_key, limit))

    async def listing(self, *, store_id: str | None = None, order_id: int | None = None, status: str | None = None,
                      limit: int = 200) -> list[ReviewRequestRecord]:
        """Requests by store, order and/or status, newest first."""
        return await self._with_items(await self.db.fetch(
            f"SELECT {_COLUMNS} FROM review_requests WHERE ($1::text IS NULL OR store_id = $1)"
            " AND ($2::bigint IS NULL OR order_id = $2) AND ($3::text IS NULL OR status = $3)"
            " ORDER BY created_at DESC, request_id LIMIT $4", store_id, order_id, status, limit))

    async def erase_customer(self, store_id: str, customer_key: str) -> int:
        """customer.erased: the request rows keep no email or name."""
        return int((await self.db.execute(
            "UPDATE review_requests SET email = NULL, first_name = NULL, updated_at = now()"
            " WHERE store_id = $1 AND customer_key = $2", store_id, customer_key)).split()[-1])

    async def relink(self, store_id: str, from_key: str, to_key: str) -> None:
        """customer.linked: a guest's requests and asked products belong to the registered customer
        (an asked product both keys hold stays with the registered one)."""
        await self.db.execute("UPDATE review_requests SET customer_key = $3, updated_at = now()"
                              " WHERE store_id = $1 AND customer_key = $2", store_id, from_key, to_key)
        await self.db.execute(
            "UPDATE asked_products a SET customer_key = $3 WHERE store_id = $1 AND customer_key = $2 AND NOT EXISTS"
            " (SELECT 1 FROM asked_products b WHERE b.store_id = $1 AND b.customer_key = $3"
            " AND b.product_id = a.product_id)", store_id, from_key, to_key)
        await self.db.execute("DELETE FROM asked_products WHERE store_id = $1 AND customer_key = $2",
                              store_id, from_key)
