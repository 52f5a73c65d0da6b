"""A store's review settings on reviews' API (bearer-protected): GET shows what applies (the
store's overrides over the service's defaults) and what the store set; PUT replaces the store's
overrides (a field left out or null goes back to the service's default)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, Strict, StrictBool

from services.reviews.adapters.store_settings import PgStoreSettings
from services.reviews.bootstrap import Reviews, publish_config, timing_config
from services.reviews.domain.store_settings import (StoreOverrides, incentive_for, keep_name_for, moderation_for,
                                                    timing_for)
from shared.service.deps import TOKEN_ERRORS, PoolDep, RequireToken, ServiceDep
from shared.service.ops import INVALID_REQUEST, INVALID_VALUE

# Strict: JSON's true is not 1 and 1.0 is not 1 here (what the document says is what is taken).
Days = Annotated[int, Strict(), Field(ge=0, le=365)]
Transit = Annotated[int, Strict(), Field(ge=0, le=120)]
Country = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")]
CategoryId = Annotated[int, Field(ge=1, le=2**53)]  # a JSON object key: a string of digits


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_delay_days: Days | None = None
    reminder_days: Days | None = None
    default_transit_days: Transit | None = None
    transit_days_by_country: dict[Country, Transit] | None = Field(None, max_length=300)
    transit_days_by_category: dict[CategoryId, Days] | None = Field(None, max_length=1000)
    delivered_statuses: list[Annotated[str, Strict(), Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")]
                             ] | None = Field(None, max_length=20)
    auto_approve_min_rating: Annotated[int, Strict(), Field(ge=1, le=6)] | None = None
    blocked_words: list[Annotated[str, Strict(), Field(min_length=1, max_length=60)]] | None = Field(None, max_length=500)
    incentive_note: Annotated[str, Strict(), Field(max_length=300)] | None = None
    keep_display_name_on_erasure: StrictBool | None = None


class EffectiveOut(BaseModel):
    request_delay_days: int
    reminder_days: int
    default_transit_days: int
    transit_days_by_country: dict[str, int]
    transit_days_by_category: dict[int, int]
    delivered_statuses: list[str]
    auto_approve_min_rating: int
    blocked_words: list[str]
    incentive_note: str | None
    keep_display_name_on_erasure: bool


class StoreSettingsOut(BaseModel):
    store_id: str
    effective: EffectiveOut  # what applies to the store's reviews now
    overrides: SettingsIn  # what the store set (the rest comes from the service's settings)


def _out(service: Reviews, store_id: str, o: StoreOverrides) -> StoreSettingsOut:
    s = service.settings
    timing, moderation = timing_for(timing_config(s), o), moderation_for(service.moderation, o)
    return StoreSettingsOut(store_id=store_id, overrides=SettingsIn(**o.as_dict()), effective=EffectiveOut(
        request_delay_days=timing.request_delay_days, reminder_days=timing.reminder_days,
        default_transit_days=timing.default_transit_days, transit_days_by_country=dict(timing.transit_days_by_country),
        transit_days_by_category=dict(timing.transit_days_by_category),
        delivered_statuses=sorted(timing.delivered_statuses), auto_approve_min_rating=moderation.auto_approve_min_rating,
        blocked_words=sorted(moderation.blocked_words),
        incentive_note=incentive_for(publish_config(s).incentive_note, o),
        keep_display_name_on_erasure=keep_name_for(s.keep_display_name_on_erasure, o)))


StoreId = Annotated[str, Path(min_length=1, max_length=64)]


def store_settings_router() -> APIRouter:
    router = APIRouter(tags=["store settings"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    @router.get("/stores/{store_id}/settings", summary="A store's review settings", responses=INVALID_REQUEST)
    async def get_settings(store_id: StoreId, pool: PoolDep, service: ServiceDep) -> StoreSettingsOut:
        return _out(service, store_id, await PgStoreSettings(pool).get(store_id))

    @router.put("/stores/{store_id}/settings", summary="Set a store's review settings (left out = the default)",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def put_settings(store_id: StoreId, body: SettingsIn, pool: PoolDep, service: ServiceDep) -> StoreSettingsOut:
        overrides = StoreOverrides.from_dict(body.model_dump(exclude_none=True))
        await PgStoreSettings(pool).put(store_id, overrides)
        return _out(service, store_id, overrides)

    return router
