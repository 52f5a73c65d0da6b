"""Reviews' HTTP app: review requests by customer, order or status, the moderation queue
(entrypoints/moderation.py) and satisfaction figures (entrypoints/satisfaction.py), behind the
service's bearer token; the customer's review pages (entrypoints/pages.py) behind signed links. Run: `uvicorn services.reviews.entrypoints.api:create_app --factory --port 8004`."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query
from pydantic import BaseModel

from services.reviews.adapters.review_requests import PgReviewRequests
from services.reviews.bootstrap import bootstrap
from services.reviews.config import ReviewsSettings
from services.reviews.domain.review_requests import STATUSES, ReviewRequestRecord
from services.reviews.entrypoints.moderation import moderation_router
from services.reviews.entrypoints.pages import pages_router
from services.reviews.entrypoints.satisfaction import satisfaction_router
from services.reviews.entrypoints.store_settings import store_settings_router
from shared.service.app import build_app
from shared.service.deps import TOKEN_ERRORS, PoolDep, RequireToken
from shared.service.ops import INVALID_REQUEST, INVALID_VALUE
from shared.service.schemas import IsoTime


class RequestItemOut(BaseModel):
    product_id: int
    name: str
    status: str  # open | dropped (refunded) | asked_before (asked about in another order)


class ReviewRequestOut(BaseModel):
    request_id: str
    store_id: str
    order_id: int
    product_ids: list[int]
    status: str
    due_at: IsoTime
    created_at: IsoTime
    # Added with delivery-aware scheduling (after the fields above, which keep their order).
    items: list[RequestItemOut]
    basis: str  # completed | shipped | delivered: what due_at counts from
    sent_at: IsoTime | None
    reminder_due_at: IsoTime | None
    reminded_at: IsoTime | None
    answered_at: IsoTime | None
    status_reason: str | None

    @classmethod
    def of(cls, r: ReviewRequestRecord) -> "ReviewRequestOut":
        return cls(request_id=r.request_id, store_id=r.store_id, order_id=r.order_id, product_ids=r.product_ids,
                   status=r.status, due_at=r.due_at, created_at=r.created_at,
                   items=[RequestItemOut(product_id=i.product_id, name=i.name, status=i.status) for i in r.items],
                   basis=r.basis, sent_at=r.sent_at, reminder_due_at=r.reminder_due_at, reminded_at=r.reminded_at,
                   answered_at=r.answered_at, status_reason=r.status_reason)


def requests_repository(pool: PoolDep) -> PgReviewRequests:
    return PgReviewRequests(pool)


RequestsDep = Annotated[PgReviewRequests, Depends(requests_repository)]
Key = Annotated[str | None, Query(min_length=3, max_length=200, description="a customer key")]
StoreId = Annotated[str | None, Query(min_length=1, max_length=64)]
OrderId = Annotated[int | None, Query(ge=1, le=2**53)]
Status = Annotated[str | None, Query(description="one of " + ", ".join(STATUSES))]
Limit = Annotated[int, Query(ge=1, le=500)]


def requests_router() -> APIRouter:
    router = APIRouter(tags=["review requests"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    @router.get("/requests", summary="Review requests of a customer, a store, an order, or in a status",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def list_requests(requests: RequestsDep, customer_key: Key = None, store_id: StoreId = None,
                            order_id: OrderId = None, status: Status = None,
                            limit: Limit = 200) -> list[ReviewRequestOut]:
        if status is not None and status not in STATUSES:
            raise HTTPException(400, f"status must be one of {', '.join(STATUSES)}")
        if customer_key is not None:
            found = await requests.for_customer(customer_key, limit)
            found = [r for r in found if (store_id is None or r.store_id == store_id)
                     and (order_id is None or r.order_id == order_id) and (status is None or r.status == status)]
        elif store_id is not None:
            found = await requests.listing(store_id=store_id, order_id=order_id, status=status, limit=limit)
        else:
            raise HTTPException(400, "give a customer_key or a store_id")
        return [ReviewRequestOut.of(r) for r in found]

    return router


def create_app(settings: ReviewsSettings | None = None) -> FastAPI:
    reviews = bootstrap(settings)
    return build_app(title="Aftercart reviews", description="Review requests at the right moment.",
                     runtime=reviews.runtime, routers=[requests_router(), moderation_router(), satisfaction_router(), store_settings_router(),
                              pages_router()],
                     service=reviews)
