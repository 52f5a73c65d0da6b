"""Notifier's HTTP app. Run: `uvicorn services.notifier.entrypoints.api:create_app --factory --port 8002`."""
from __future__ import annotations

from fastapi import APIRouter, FastAPI, Query, Request

from services.notifier.bootstrap import bootstrap
from services.notifier.config import NotifierSettings
from shared.service.ops import pool_or_503
from shared.service.app import build_app


def messages_router() -> APIRouter:
    router = APIRouter(tags=["messages"])

    @router.get("/messages", summary="Messages for a customer (status, template, times; no bodies)")
    async def messages(request: Request, customer_key: str = Query(min_length=3, max_length=200),
                       limit: int = Query(default=50, ge=1, le=500)) -> list[dict]:
        pool = pool_or_503(request.app.state.notifier.runtime)
        rows = await pool.fetch(
            "SELECT message_id, cause_event_id, cause_type, template, channel, status, attempts, created_at,"
            " sent_at FROM messages WHERE customer_key = $1 ORDER BY created_at DESC LIMIT $2",
            customer_key, limit)
        return [{**dict(r), "created_at": r["created_at"].isoformat(),
                 "sent_at": r["sent_at"].isoformat() if r["sent_at"] else None} for r in rows]

    return router


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    notifier = bootstrap(settings)
    return build_app(title="Aftercart notifier", description="Timely, personal messages about orders.",
                     runtime=notifier.runtime, routers=[messages_router()], state_name="notifier",
                     state=notifier)
