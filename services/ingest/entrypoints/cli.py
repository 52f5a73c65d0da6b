"""`aftercart ingest …`: reconcile one store against its REST API, or check its webhooks, from a
shell or a cron job — the same code the in-service schedule runs, without the HTTP app or Kafka
(events go to the outbox; the running ingest's relay publishes them).

Prints a JSON summary on stdout (logs go to stderr, so scripts can parse it); exits 1 on error.
Settings come from the environment like the service's (AFTERCART_INGEST_DATABASE_URL, …).
"""
from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Optional

import structlog
import typer

from services.ingest.adapters.woo_rest import WooRestClient, WooRestError
from services.ingest.bootstrap import MIGRATIONS, reconciler
from services.ingest.config import IngestSettings
from services.ingest.domain.stores import Store
from services.ingest.domain.times import parse_gmt
from services.ingest.reconcile import Reconciler
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.logging import setup_logging

ingest_app = typer.Typer(help="Ingest: reconcile stores through the WooCommerce REST API.", no_args_is_help=True)

Job = Callable[[Reconciler, Store, WooRestClient], Awaitable[dict]]


def _logs_to_stderr(level: str) -> None:
    setup_logging("ingest-cli", level)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)


async def _with_store(store_id: str, job: Job) -> dict:
    settings = IngestSettings()
    pool = await create_pool(settings.database_url, 1, 4)
    try:
        await apply_migrations(pool, MIGRATIONS, "ingest")  # a fresh database works too
        r = reconciler(pool, settings)
        return await r.with_client(store_id, lambda store, client: job(r, store, client))
    finally:
        await pool.close()


def _run(store_id: str, job: Job) -> None:
    _logs_to_stderr(IngestSettings().log_level)
    try:
        summary = asyncio.run(_with_store(store_id, job))
    except (WooRestError, OSError, ValueError) as exc:  # OSError covers refused connections, timeouts
        summary = {"store_id": store_id, "error": f"{type(exc).__name__}: {exc}"[:300]}
    except Exception as exc:  # httpx errors and the like: the type only (messages may carry URLs)
        summary = {"store_id": store_id, "error": type(exc).__name__}
    typer.echo(json.dumps(summary, indent=2, default=str))
    if "error" in summary:
        raise typer.Exit(1)


def _since(value: Optional[str]) -> Optional[datetime]:
    if value is None:
        return None
    try:
        return parse_gmt(value)
    except ValueError:
        raise typer.BadParameter("an ISO date-time, UTC unless it carries an offset, e.g. 2026-01-01T00:00:00")


@ingest_app.command()
def reconcile(store: str = typer.Option(..., "--store", help="Store id as registered with ingest."),
              since: Optional[str] = typer.Option(None, help="Re-read resources modified after this (UTC ISO)."),
              all_: bool = typer.Option(False, "--all", help="Re-read the store's whole history.")) -> None:
    """Pull products, orders and customers and feed them through ingest; repairs missed webhooks."""
    if since and all_:
        raise typer.BadParameter("give --since or --all, not both")
    moment = _since(since)

    async def job(r: Reconciler, st: Store, client: WooRestClient) -> dict:
        return await r.store(st, client, since=moment, full=all_)
    _run(store, job)


@ingest_app.command("check-webhooks")
def check_webhooks_cmd(store: str = typer.Option(..., "--store", help="Store id as registered with ingest.")) -> None:
    """List the store's webhooks, record their health, alert on the ones WooCommerce disabled."""
    async def job(r: Reconciler, st: Store, client: WooRestClient) -> dict:
        return {"webhooks": await r.check_webhooks(st, client)}
    _run(store, job)
