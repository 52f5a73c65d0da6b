"""The internal API about flows (bearer token): the flow registry, each store's settings and its
flows' settings, the scheduled queue, the templates, previews and resends.

    GET  /flows                              every flow with its defaults
    GET  /stores/{id}/settings               the store's settings (the webhook secret only as set / not set)
    PUT  /stores/{id}/settings               {"store_name": "...", "returns_url": "..."}: the fields given change
    GET  /stores/{id}/flows                  every flow's settings for the store
    GET  /stores/{id}/flows/{flow}
    PUT  /stores/{id}/flows/{flow}           {"enabled": true, "delay_s": 0, "channel": "email", "marketing": false}
    GET  /queue?store_id=&flow=&status=pending&limit=   messages by due time (no addresses, no bodies)
    GET  /templates                          each template and the locales it is shipped in
    POST /preview                            {"flow", "locale"?, "store_id"?, "order_id"?} → subject, text, html
    POST /messages/{id}/resend               a sent or failed message again, as it was rendered
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from services.notifier.adapters.messages import PgMessages
from services.notifier.adapters.order_state import PgOrderState
from services.notifier.adapters.settings import PgSettings
from services.notifier.domain.delivery import QueuedMessage
from services.notifier.domain.flows import FLOWS
from services.notifier.bootstrap import message_config
from services.notifier.domain.messages import SHIPPED
from services.notifier.domain.previews import ORDER_FLOWS, UnknownFlow, preview
from services.notifier.domain.store_settings import FlowSettings, StoreSettings
from shared.service.deps import TOKEN_ERRORS, PoolDep, RequireToken, ServiceDep
from shared.service.ops import INVALID_REQUEST, INVALID_VALUE

STORE = r"^[A-Za-z0-9_.\-]{1,100}$"
StoreId = Annotated[str, Path(pattern=STORE, description="the store's id, as events carry it")]
FlowName = Annotated[str, Path(pattern=r"^[a-z_]{1,50}$", description="a flow's name (GET /flows)")]
NOT_FOUND: dict[int | str, dict] = {404: {"description": "No such flow, order or message"}}
NOT_NOW: dict[int | str, dict] = {409: {"description": "The message is not sent or failed (nothing to repeat)"}}
SECRET_FIELDS = ("webhook_secret",)


@dataclass
class FlowRepositories:
    """What these routes read and write (unit tests pass the in-memory twins)."""
    settings: Any  # PgSettings
    messages: Any  # PgMessages
    orders: Any  # PgOrderState
    development: bool


def get_repositories(service: ServiceDep, pool: PoolDep) -> FlowRepositories:
    s = service.settings
    config = message_config(s)
    return FlowRepositories(settings=PgSettings(pool, config.store_defaults(), config.flow_defaults),
                            messages=PgMessages(pool), orders=PgOrderState(pool),
                            development=s.environment == "development")


Repos = Annotated[FlowRepositories, Depends(get_repositories)]


class FlowOut(BaseModel):
    name: str
    template: str
    triggers: list[str]
    marketing: bool
    default_delay_s: int
    channel: str
    order_statuses: list[str] | None
    to_store: bool
    description: str


class StoreSettingsOut(StoreSettings):
    model_config = ConfigDict(extra="forbid", frozen=True)
    webhook_secret: None = None  # never answered
    webhook_secret_set: bool = False

    @classmethod
    def of(cls, s: StoreSettings) -> StoreSettingsOut:
        data = s.model_dump()
        secret = data.pop("webhook_secret")
        return cls.model_construct(**data, webhook_secret=None, webhook_secret_set=bool(secret))


# Every StoreSettings field, optional: the fields a PUT gives are the ones that change.
StoreSettingsIn = create_model(
    "StoreSettingsIn", __config__=ConfigDict(extra="forbid"),
    **{name: (f.annotation | None, Field(default=None, description=f.description))
       for name, f in StoreSettings.model_fields.items()})


class QueuedOut(BaseModel):
    message_id: str
    flow: str
    store_id: str
    customer_key: str
    order_id: int | None
    channel: str
    marketing: bool
    status: str
    status_reason: str | None
    attempts: int
    due_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, q: QueuedMessage) -> QueuedOut:
        return cls(**q.__dict__)


class TemplateOut(BaseModel):
    template: str
    flows: list[str]
    locales: list[str]


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    flow: str = Field(pattern=r"^[a-z_]{1,50}$")
    locale: str | None = Field(default=None, max_length=20, description="default: the store's")
    store_id: str | None = Field(default=None, pattern=STORE, description="whose settings and order (default: none)")
    order_id: int | None = Field(default=None, ge=1, description="a real order's last known event (needs store_id)")


class PreviewOut(BaseModel):
    flow: str
    template: str
    locale: str
    to_address: str
    subject: str
    text: str
    html: str


class ResendOut(BaseModel):
    message_id: str
    status: Literal["pending"]


def _flow(name: str) -> None:
    if name not in FLOWS:
        raise HTTPException(404, f"no such flow: {name}")


def _invalid(exc: ValidationError) -> HTTPException:
    # Which fields and why, never the values (a secret may be among them).
    reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())
    return HTTPException(400, f"invalid settings: {reasons}")


def settings_router() -> APIRouter:
    router = APIRouter(tags=["flows"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    @router.get("/flows", summary="Every flow: triggers, marketing or transactional, default delay and channel")
    async def flows() -> list[FlowOut]:
        return [FlowOut(name=f.name, template=f.template, triggers=list(f.triggers), marketing=f.marketing,
                        default_delay_s=f.default_delay_s, channel=f.channel, to_store=f.to_store,
                        order_statuses=sorted(f.order_statuses) if f.order_statuses is not None else None,
                        description=f.description) for f in FLOWS.values()]

    @router.get("/stores/{store_id}/settings", summary="A store's settings (defaults for what it never set)",
                responses={**INVALID_REQUEST})
    async def get_store(repos: Repos, store_id: StoreId) -> StoreSettingsOut:
        return StoreSettingsOut.of(await repos.settings.store(store_id))

    @router.put("/stores/{store_id}/settings", summary="Change the given fields of a store's settings",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def put_store(repos: Repos, store_id: StoreId, body: StoreSettingsIn) -> StoreSettingsOut:  # type: ignore[valid-type]
        changes = body.model_dump(mode="json", exclude_unset=True)
        try:
            merged = (await repos.settings.store(store_id)).merged(changes, development=repos.development)
        except ValidationError as exc:
            raise _invalid(exc) from None
        await repos.settings.put_store(store_id, {k: merged.model_dump(mode="json")[k] for k in changes})
        return StoreSettingsOut.of(merged)

    @router.get("/stores/{store_id}/flows", summary="Every flow's settings for a store",
                responses={**INVALID_REQUEST})
    async def store_flows(repos: Repos, store_id: StoreId) -> dict[str, FlowSettings]:
        return await repos.settings.flows(store_id)

    @router.get("/stores/{store_id}/flows/{flow}", summary="One flow's settings for a store",
                responses={**NOT_FOUND, **INVALID_REQUEST})
    async def get_flow(repos: Repos, store_id: StoreId, flow: FlowName) -> FlowSettings:
        _flow(flow)
        return await repos.settings.flow(store_id, flow)

    @router.put("/stores/{store_id}/flows/{flow}", summary="Set one flow's settings for a store",
                responses={**NOT_FOUND, **INVALID_VALUE, **INVALID_REQUEST})
    async def put_flow(repos: Repos, store_id: StoreId, flow: FlowName, body: FlowSettings) -> FlowSettings:
        _flow(flow)
        if body.channel == "webhook":
            # Refused now rather than every message failing later: the channel needs where and how to sign.
            store = await repos.settings.store(store_id)
            if not (store.webhook_url and store.webhook_secret):
                raise HTTPException(400, "the webhook channel needs the store's webhook_url and webhook_secret"
                                         " (PUT /stores/{id}/settings)")
        await repos.settings.put_flow(store_id, flow, body)
        return body

    @router.get("/queue", summary="Messages by due time: the scheduled ones by default (no addresses or bodies)",
                responses={**INVALID_REQUEST})
    async def queue(repos: Repos,
                    store_id: Annotated[str | None, Query(pattern=STORE)] = None,
                    flow: Annotated[str | None, Query(pattern=r"^[a-z_]{1,50}$")] = None,
                    status: Literal["pending", "sent", "failed", "cancelled", "suppressed"] = "pending",
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[QueuedOut]:
        return [QueuedOut.of(q) for q in await repos.messages.queue(store_id=store_id, flow=flow, status=status,
                                                                     limit=limit)]

    @router.get("/templates", summary="Each template, the flows that use it and the locales it is shipped in")
    async def templates() -> list[TemplateOut]:
        catalogue = SHIPPED.catalogue()
        names = sorted({t for ts in catalogue.values() for t in ts})
        return [TemplateOut(template=t, flows=[f.name for f in FLOWS.values() if f.template == t],
                            locales=sorted(loc for loc, ts in catalogue.items() if t in ts)) for t in names]

    @router.post("/preview", summary="A flow's message rendered with a sample or a real order",
                 responses={**NOT_FOUND, **INVALID_VALUE, **INVALID_REQUEST})
    async def preview_message(repos: Repos, body: PreviewIn) -> PreviewOut:
        _flow(body.flow)
        if body.order_id is not None and body.store_id is None:
            raise HTTPException(400, "order_id needs store_id")
        store = await repos.settings.store(body.store_id) if body.store_id else None
        order = None
        if body.order_id is not None:
            order = await repos.orders.last_event(body.store_id, body.order_id)
            if order is None:
                raise HTTPException(404, f"no order {body.order_id} known for store {body.store_id}")
        try:
            draft = preview(body.flow, locale=body.locale, store=store, order=order)
        except UnknownFlow:
            raise HTTPException(404, f"no such flow: {body.flow}") from None
        except (ValidationError, ValueError):
            raise HTTPException(400, f"order {body.order_id} does not fit flow {body.flow}"
                                     f"{' (an order flow)' if body.flow in ORDER_FLOWS else ''}") from None
        return PreviewOut(flow=body.flow, template=draft.template, locale=draft.locale, to_address=draft.to_address,
                          subject=draft.subject, text=draft.text, html=draft.html)

    @router.post("/messages/{message_id}/resend", status_code=202,
                 summary="Send a sent or failed message again (same content, same Message-ID)",
                 responses={**NOT_FOUND, **NOT_NOW, **INVALID_REQUEST})
    async def resend(repos: Repos, message_id: Annotated[str, Path(min_length=1, max_length=100)]) -> ResendOut:
        if await repos.messages.get(message_id) is None:
            raise HTTPException(404, "no such message")
        if not await repos.messages.resend(message_id):
            raise HTTPException(409, "only a sent or failed message can be sent again")
        return ResendOut(message_id=message_id, status="pending")

    return router
