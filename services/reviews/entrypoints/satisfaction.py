"""Satisfaction on reviews' API (bearer-protected): a store's — or one of its products' — figures
over the asks sent in a period (default: the last 30 days). The same figures per store are
Prometheus metrics (metrics.py): reviews_requests_sent_total, reviews_submitted_total,
reviews_rating (a histogram of stars), reviews_help_requests_total, reviews_time_to_review_seconds."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel

from services.reviews.adapters.satisfaction import PgSatisfaction
from shared.service.deps import TOKEN_ERRORS, PoolDep, RequireToken, ServiceDep
from shared.service.ops import INVALID_REQUEST, INVALID_VALUE
from shared.service.schemas import IsoTime


class SatisfactionOut(BaseModel):
    store_id: str
    product_id: int | None
    since: IsoTime
    until: IsoTime
    asked: int
    answered: int
    reviewed: int
    reviews: int
    conversion: float | None  # reviewed / asked
    response_rate: float | None  # answered / asked
    average_rating: float | None
    ratings: dict[int, int]  # stars → count
    help_requests: int
    median_hours_to_review: float | None
    p90_hours_to_review: float | None
    csat_average: float | None  # the optional one-question score (1–5) of the thank-you page
    csat: dict[int, int]  # score → answers


IsoParam = Annotated[str | None, Query(max_length=40, description="ISO-8601 time with its UTC offset")]


def _moment(value: str | None, name: str) -> datetime | None:
    """An ISO-8601 time with its offset, in UTC; a number, a date or a time without offset is a 400
    (read strictly: a bare number must not pass as a Unix time)."""
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(400, f"{name} must be an ISO-8601 time with its UTC offset") from None
    if t.tzinfo is None or "T" not in value:
        raise HTTPException(400, f"{name} must be an ISO-8601 time with its UTC offset")
    return t.astimezone(timezone.utc)


def satisfaction_router() -> APIRouter:
    router = APIRouter(tags=["satisfaction"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    @router.get("/stores/{store_id}/satisfaction", summary="Satisfaction figures of a store or one of its products",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def satisfaction(store_id: Annotated[str, Path(min_length=1, max_length=64)], pool: PoolDep,
                           service: ServiceDep, product_id: Annotated[int | None, Query(ge=1, le=2**53)] = None,
                           since: IsoParam = None, until: IsoParam = None) -> SatisfactionOut:
        end = _moment(until, "until") or service.now().astimezone(timezone.utc)
        start = _moment(since, "since") or end - timedelta(days=30)
        if start >= end:
            raise HTTPException(400, "since must be before until")
        f = await PgSatisfaction(pool).figures(store_id, start, end, product_id)
        return SatisfactionOut(store_id=store_id, product_id=product_id, since=start, until=end, asked=f.asked,
                               answered=f.answered, reviewed=f.reviewed, reviews=f.reviews, conversion=f.conversion,
                               response_rate=f.response_rate, average_rating=f.average_rating, ratings=f.ratings,
                               help_requests=f.help_requests, median_hours_to_review=f.median_hours_to_review,
                               p90_hours_to_review=f.p90_hours_to_review, csat_average=f.csat_average,
                               csat=f.csat or {})

    return router
