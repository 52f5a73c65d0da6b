"""`python -m services.reviews.entrypoints.cli send-due --at …`: the scheduler's one pass at a moved
clock, as a process against the real database — nothing before the due time, the ask at it, once,
with a link the running service (on the real clock) takes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from services.reviews import handlers
from services.reviews.adapters.unit_of_work import ReviewsUnitOfWork
from services.reviews.bootstrap import MIGRATIONS, review_links
from services.reviews.config import ReviewsSettings
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from tests.support.pg_schema import isolated_schema
from tests.unit.reviews.order_events import order_event

ROOT = Path(__file__).resolve().parents[3]


def _send_due(dsn: str, at: str) -> dict:
    env = {**os.environ, "AFTERCART_REVIEWS_DATABASE_URL": dsn, "AFTERCART_ENV": "development"}
    out = subprocess.run([sys.executable, "-m", "services.reviews.entrypoints.cli", "send-due", "--at", at],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


async def test_send_due_at_a_given_moment(stack, uid):
    async with isolated_schema(stack.service_dsn("reviews"), f"it_{uid}") as dsn:
        pool = await create_pool(dsn, 1, 2)
        try:
            await apply_migrations(pool, MIGRATIONS, "reviews")
            async with pool.acquire() as conn:
                async with conn.transaction():
                    await handlers.on_order_completed(order_event(f"s{uid}", "order.completed", 1),
                                                      ReviewsUnitOfWork(conn))
            # Completed 2026-03-01 10:00: 7 days' transit and 7 to try → due 2026-03-15 10:00.
            assert _send_due(dsn, "2026-03-15T09:59:59Z")["asked"] == 0
            assert _send_due(dsn, "2026-03-15T10:00:00Z") == {"at": "2026-03-15T10:00:00+00:00", "asked": 1,
                                                              "skipped": 0, "reminded": 0}
            assert _send_due(dsn, "2026-03-16T10:00:00Z")["asked"] == 0
            assert await pool.fetchval("SELECT count(*) FROM outbox WHERE event_type = 'review.requested'") == 1
            payload = json.loads(await pool.fetchval(
                "SELECT convert_from(payload, 'UTF8') FROM outbox WHERE event_type = 'review.requested'"))
            # Signed on the real clock: a link dated at the moved one would read as expired (or not yet valid).
            token = payload["data"]["review_url"].rsplit("/", 1)[1]
            request_id = payload["data"]["request_id"]
            assert review_links(ReviewsSettings(environment="development")).request_id(token) == request_id
        finally:
            await pool.close()
