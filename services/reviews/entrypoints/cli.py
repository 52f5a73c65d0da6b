"""Reviews from a shell: send the asks and reminders due at a given moment — the scheduler's one
pass with the clock moved (a demo, an end-to-end test, catching up after an outage). Events go to
the outbox; the running reviews' relay publishes them.

    python -m services.reviews.entrypoints.cli send-due --at 2026-03-20T10:00:00Z

Prints a JSON summary on stdout. Settings come from the environment like the service's
(AFTERCART_REVIEWS_DATABASE_URL, AFTERCART_REVIEWS_LINK_SECRET, …).
"""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from typing import Optional

import typer

from services.reviews.adapters.unit_of_work import in_transaction
from services.reviews.bootstrap import MIGRATIONS, review_links, scheduler_config, timing_config
from services.reviews.config import ReviewsSettings
from services.reviews.scheduling import run_due
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool

reviews_app = typer.Typer(help="Reviews: run the scheduler by hand.", no_args_is_help=True)


async def _send_due(settings: ReviewsSettings, at: datetime) -> dict:
    pool = await create_pool(settings.database_url, 1, 2)
    try:
        await apply_migrations(pool, MIGRATIONS, "reviews")
        # What is due is decided at AT; the links are signed on the real clock, as the running
        # service checks them (a link signed in a moved-on future would read as not yet valid).
        done = await run_due(lambda: in_transaction(pool, timing_config(settings)),
                             review_links(settings), scheduler_config(settings), at)
    finally:
        await pool.close()
    return {"at": at.isoformat(), "asked": done.asked, "skipped": done.skipped, "reminded": done.reminded}


@reviews_app.command("send-due")
def send_due(at: Optional[str] = typer.Option(None, help="ISO-8601 time with offset; default now")) -> None:
    """Send every ask and reminder due at AT."""
    moment = datetime.fromisoformat(at.replace("Z", "+00:00")) if at else datetime.now(timezone.utc)
    if moment.tzinfo is None:
        raise typer.BadParameter("give the time with its UTC offset, e.g. 2026-03-20T10:00:00Z")
    print(json.dumps(asyncio.run(_send_due(ReviewsSettings(), moment.astimezone(timezone.utc)))))


@reviews_app.callback()
def _main() -> None:
    """Reviews' commands."""


if __name__ == "__main__":
    reviews_app()
