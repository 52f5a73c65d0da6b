"""Reviews' HTTP app: a customer's review requests, behind the service's bearer token.
Run: `uvicorn services.reviews.entrypoints.api:create_app --factory --port 8004`."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import BaseModel

from services.reviews.adapters.review_requests import PgReviewRequests
from services.reviews.bootstrap import bootstrap
from services.reviews.config import ReviewsSettings
from shared.service.app import build_app
from shared.service.deps import TOKEN_ERRORS, PoolDep, RequireToken
from shared.service.ops import INVALID_REQUEST, INVALID_VALUE
from shared.service.schemas import IsoTime


class ReviewRequestOut(BaseModel):
    request_id: str
    store_id: str
    order_id: int
    product_ids: list[int]
    status: str
    due_at: IsoTime
    created_at: IsoTime


def requests_repository(pool: PoolDep) -> PgReviewRequests:
    return PgReviewRequests(pool)


RequestsDep = Annotated[PgReviewRequests, Depends(requests_repository)]


def requests_router() -> APIRouter:
    router = APIRouter(tags=["review requests"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    @router.get("/requests", summary="Review requests of a customer",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def list_requests(customer_key: Annotated[str, Query(min_length=3, max_length=200)],
                            requests: RequestsDep) -> list[ReviewRequestOut]:
        return [ReviewRequestOut(request_id=r.request_id, store_id=r.store_id, order_id=r.order_id,
                                 product_ids=r.product_ids, status=r.status, due_at=r.due_at,
                                 created_at=r.created_at)
                for r in await requests.for_customer(customer_key)]

    return router


def create_app(settings: ReviewsSettings | None = None) -> FastAPI:
    reviews = bootstrap(settings)
    return build_app(title="Aftercart reviews", description="Review requests at the right moment.",
                     runtime=reviews.runtime, routers=[requests_router()], service=reviews)
