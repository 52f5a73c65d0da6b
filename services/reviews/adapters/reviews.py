"""PgReviews: what customers answered — stars per product, reviews, help requests — in PostgreSQL.
A second submit of the same form changes nothing (ON CONFLICT on one review per product of a
request, one help request per request). tests/support/fakes/reviews.py's MemoryReviews is its twin."""
from __future__ import annotations

from datetime import datetime

import asyncpg

from services.reviews.domain.reviews import HelpRequest, Review

Executor = asyncpg.Connection | asyncpg.Pool
_REVIEW = ("review_id, request_id, store_id, order_id, product_id, customer_key, rating, title, body, display_name,"
           " reviewer_email, photo, status, created_at, locale, woo_review_id, publish_error, publish_attempts,"
           " published_at")


class PgReviews:
    def __init__(self, db: Executor) -> None:
        self.db = db

    async def rate(self, request_id: str, ratings: dict[int, int], now: datetime) -> None:
        """Stars per product (a later choice replaces an earlier one)."""
        await self.db.execute(
            "INSERT INTO ratings (request_id, product_id, rating, rated_at) SELECT $1, p, r, $4"
            " FROM unnest($2::bigint[], $3::int[]) AS t(p, r) ON CONFLICT (request_id, product_id)"
            " DO UPDATE SET rating = excluded.rating, rated_at = excluded.rated_at",
            request_id, list(ratings), list(ratings.values()), now)

    async def ratings(self, request_id: str) -> dict[int, int]:
        rows = await self.db.fetch("SELECT product_id, rating FROM ratings WHERE request_id = $1", request_id)
        return {r["product_id"]: r["rating"] for r in rows}

    async def add(self, review: Review) -> bool:
        """False (nothing written) when the product of this request already has its review."""
        r = review
        return bool(await self.db.fetchval(
            f"INSERT INTO reviews ({_REVIEW}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)"
            " ON CONFLICT DO NOTHING RETURNING 1",
            r.review_id, r.request_id, r.store_id, r.order_id, r.product_id, r.customer_key, r.rating, r.title, r.body,
            r.display_name, r.reviewer_email, r.photo, r.status, r.created_at, r.locale, r.woo_review_id,
            r.publish_error, r.publish_attempts, r.published_at))

    async def for_request(self, request_id: str) -> list[Review]:
        rows = await self.db.fetch(f"SELECT {_REVIEW} FROM reviews WHERE request_id = $1 ORDER BY product_id",
                                   request_id)
        return [Review(**dict(r)) for r in rows]

    async def add_help(self, h: HelpRequest) -> bool:
        """False when the request already asked for help."""
        return bool(await self.db.fetchval(
            "INSERT INTO help_requests (help_id, request_id, store_id, order_id, customer_key, rating, message,"
            " created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING RETURNING 1",
            h.help_id, h.request_id, h.store_id, h.order_id, h.customer_key, h.rating, h.message, h.created_at))

    async def help_for(self, request_id: str) -> HelpRequest | None:
        row = await self.db.fetchrow(
            "SELECT help_id, request_id, store_id, order_id, customer_key, rating, message, created_at"
            " FROM help_requests WHERE request_id = $1", request_id)
        return HelpRequest(**dict(row)) if row else None

    async def set_csat(self, request_id: str, store_id: str, score: int, now: datetime) -> None:
        """The request's satisfaction score (a later answer replaces the earlier one)."""
        await self.db.execute(
            "INSERT INTO csat (request_id, store_id, score, answered_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (request_id) DO UPDATE SET score = excluded.score, answered_at = excluded.answered_at",
            request_id, store_id, score, now)

    async def csat(self, request_id: str) -> int | None:
        return await self.db.fetchval("SELECT score FROM csat WHERE request_id = $1", request_id)

    async def get(self, review_id: str) -> Review | None:
        row = await self.db.fetchrow(f"SELECT {_REVIEW} FROM reviews WHERE review_id = $1", review_id)
        return Review(**dict(row)) if row else None

    async def claim_publishable(self, now: datetime, lease_until: datetime, limit: int) -> list[Review]:
        """Approved reviews due for an attempt, each counted as one more attempt and leased until
        `lease_until` (other instances skip it meanwhile: SKIP LOCKED, then the lease)."""
        rows = await self.db.fetch(
            f"WITH due AS (SELECT review_id FROM reviews WHERE status = 'approved'"
            " AND (next_attempt_at IS NULL OR next_attempt_at <= $1) ORDER BY created_at, review_id LIMIT $3"
            " FOR UPDATE SKIP LOCKED)"
            " UPDATE reviews r SET publish_attempts = r.publish_attempts + 1, next_attempt_at = $2 FROM due"
            f" WHERE r.review_id = due.review_id RETURNING {', '.join('r.' + c.strip() for c in _REVIEW.split(','))}",
            now, lease_until, limit)
        return sorted((Review(**dict(r)) for r in rows), key=lambda r: (r.created_at, r.review_id))

    async def published(self, review_id: str, woo_review_id: int, now: datetime) -> bool:
        """Recorded as published (False if it no longer was approved, e.g. rejected meanwhile)."""
        return bool(await self.db.fetchval(
            "UPDATE reviews SET status = 'published', woo_review_id = $2, published_at = $3, publish_error = NULL,"
            " next_attempt_at = NULL WHERE review_id = $1 AND status = 'approved' RETURNING 1",
            review_id, woo_review_id, now))

    async def publish_failed(self, review_id: str, reason: str, retry_at: datetime | None) -> None:
        """A refusal: retried at `retry_at`, or (None) failed for good, with its reason."""
        await self.db.execute(
            "UPDATE reviews SET publish_error = $2, next_attempt_at = $3,"
            " status = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE status END"
            " WHERE review_id = $1 AND status = 'approved'", review_id, reason[:500], retry_at)

    async def moderate(self, review_id: str, to_status: str, from_statuses: tuple[str, ...],
                       display_name: str | None = None) -> Review | None:
        """Move a review from one of `from_statuses` to `to_status` (a new attempt starts afresh),
        and/or change its display name; None when it isn't in one of those statuses."""
        row = await self.db.fetchrow(
            f"UPDATE reviews SET status = $2, display_name = COALESCE($4, display_name),"
            " next_attempt_at = CASE WHEN $2 = 'approved' THEN NULL ELSE next_attempt_at END,"
            " publish_attempts = CASE WHEN $2 = 'approved' AND status <> 'approved' THEN 0 ELSE publish_attempts END"
            f" WHERE review_id = $1 AND status = ANY($3::text[]) RETURNING {_REVIEW}",
            review_id, to_status, list(from_statuses), display_name)
        return Review(**dict(row)) if row else None

    async def queue(self, store_id: str, statuses: tuple[str, ...], limit: int = 200) -> list[Review]:
        """The moderation queue: a store's reviews in these statuses, oldest first."""
        rows = await self.db.fetch(
            f"SELECT {_REVIEW} FROM reviews WHERE store_id = $1 AND status = ANY($2::text[])"
            " ORDER BY created_at, review_id LIMIT $3", store_id, list(statuses), limit)
        return [Review(**dict(r)) for r in rows]

    async def erase_customer(self, store_id: str, customer_key: str, keep_display_name: bool) -> None:
        """customer.erased: no email and no help message left; the display name goes too unless the
        store keeps it on published reviews (then only there)."""
        await self.db.execute(
            "UPDATE reviews SET reviewer_email = NULL, display_name = CASE WHEN $3 AND status = 'published'"
            " THEN display_name ELSE '' END WHERE store_id = $1 AND customer_key = $2",
            store_id, customer_key, keep_display_name)
        await self.db.execute("UPDATE help_requests SET message = NULL WHERE store_id = $1 AND customer_key = $2",
                              store_id, customer_key)
