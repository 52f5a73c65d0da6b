"""PgSatisfaction: the satisfaction figures (domain/satisfaction.py) computed in PostgreSQL over the
asks sent in [since, until), for a store or one product of it."""
from __future__ import annotations

from datetime import datetime

import asyncpg

from services.reviews.domain.satisfaction import Satisfaction

_ASKED = ("SELECT request_id FROM review_requests WHERE store_id = $1 AND sent_at >= $2 AND sent_at < $3"
          " AND ($4::bigint IS NULL OR $4 = ANY(product_ids))")


class PgSatisfaction:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self.db = db

    async def figures(self, store_id: str, since: datetime, until: datetime,
                      product_id: int | None = None) -> Satisfaction:
        args = (store_id, since, until, product_id)
        head = await self.db.fetchrow(
            f"WITH asked AS ({_ASKED}) SELECT"
            " (SELECT count(*) FROM asked) AS asked,"
            " (SELECT count(*) FROM review_requests q JOIN asked USING (request_id) WHERE q.answered_at IS NOT NULL)"
            " AS answered,"
            " (SELECT count(DISTINCT r.request_id) FROM reviews r JOIN asked USING (request_id)"
            "  WHERE $4::bigint IS NULL OR r.product_id = $4) AS reviewed,"
            " (SELECT count(*) FROM reviews r JOIN asked USING (request_id) WHERE $4::bigint IS NULL OR r.product_id = $4)"
            " AS reviews,"
            " (SELECT count(*) FROM help_requests h JOIN asked USING (request_id)) AS help_requests", *args)
        stars = await self.db.fetch(
            f"WITH asked AS ({_ASKED}) SELECT g.rating FROM ratings g JOIN asked USING (request_id)"
            " WHERE $4::bigint IS NULL OR g.product_id = $4", *args)
        times = await self.db.fetchrow(
            f"WITH asked AS ({_ASKED}) SELECT"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.created_at - q.sent_at)) AS p50,"
            " percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM r.created_at - q.sent_at)) AS p90"
            " FROM reviews r JOIN asked USING (request_id) JOIN review_requests q USING (request_id)"
            " WHERE $4::bigint IS NULL OR r.product_id = $4", *args)
        csat_rows = await self.db.fetch(
            f"WITH asked AS ({_ASKED}) SELECT c.score FROM csat c JOIN asked USING (request_id)", *args)
        csat = {n: 0 for n in range(1, 6)}
        for c in csat_rows:
            csat[c["score"]] += 1
        ratings = {n: 0 for n in range(1, 6)}
        for s in stars:
            ratings[s["rating"]] += 1
        hours = lambda v: None if v is None else round(float(v) / 3600, 2)  # noqa: E731
        return Satisfaction(asked=head["asked"], answered=head["answered"], reviewed=head["reviewed"],
                            reviews=head["reviews"], ratings=ratings, help_requests=head["help_requests"],
                            median_hours_to_review=hours(times["p50"]), p90_hours_to_review=hours(times["p90"]),
                            csat=csat)
