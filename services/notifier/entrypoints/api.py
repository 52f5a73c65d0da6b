"""Notifier's HTTP app: the internal API (a customer's message history, behind the bearer token)
plus the shared /healthz, /readyz, /metrics.
Run: `uvicorn services.notifier.entrypoints.api:create_app --factory --port 8002`."""
from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import BaseModel

from services.notifier.bootstrap import bootstrap
from services.notifier.config import NotifierSettings
from services.notifier.domain.delivery import MessageSummary
from services.notifier.entrypoints.api_customers import customers_router
from services.notifier.entrypoints.customer_pages import customer_pages_router
from services.notifier.entrypoints.api_settings import settings_router
from shared.service.app import build_app
from shared.service.deps import TOKEN_ERRORS, PoolDep, RequireToken, ServiceDep
from shared.service.ops import INVALID_REQUEST, INVALID_VALUE


class MessageOut(BaseModel):
    message_id: str
    cause_event_id: str
    cause_type: str
    template: str
    channel: str
    status: str
    attempts: int
    created_at: str  # ISO-8601 as Python writes it ("…+00:00"), as this API always has
    sent_at: str | None

    @classmethod
    def of(cls, m: MessageSummary) -> "MessageOut":
        return cls(message_id=m.message_id, cause_event_id=m.cause_event_id, cause_type=m.cause_type,
                   template=m.template, channel=m.channel, status=m.status, attempts=m.attempts,
                   created_at=m.created_at.isoformat(), sent_at=m.sent_at.isoformat() if m.sent_at else None)


class MessageHistory(Protocol):
    async def history(self, customer_key: str, limit: int) -> list[MessageSummary]: ...


def get_message_history(service: ServiceDep, pool: PoolDep) -> MessageHistory:
    """The repository the history is read from (unit tests override this dependency with
    tests/support/fakes' MemoryMessages through FastAPI's dependency_overrides)."""
    return service.message_history(pool)


MessageHistoryDep = Annotated[MessageHistory, Depends(get_message_history)]


def messages_router() -> APIRouter:
    router = APIRouter(tags=["messages"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    @router.get("/messages", summary="Messages for a customer (status, template, times; no bodies)",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def messages(history: MessageHistoryDep,
                       customer_key: Annotated[str, Query(min_length=3, max_length=200)],
                       limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[MessageOut]:
        return [MessageOut.of(m) for m in await history.history(customer_key, limit)]

    return router


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    notifier = bootstrap(settings)
    return build_app(title="Aftercart notifier", description="Timely, personal messages about orders.",
                     runtime=notifier.runtime, routers=[messages_router(), customers_router(), customer_pages_router(),
                                                           settings_router()], service=notifier)
