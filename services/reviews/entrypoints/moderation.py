"""The moderation queue on reviews' API (bearer-protected): a store's reviews waiting for a person
or refused by WooCommerce (with the reason), approve / reject, change the display name. An
approved review is picked up by the publisher. No reviewer email in any answer."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field

from services.reviews.adapters.reviews import PgReviews
from services.reviews.domain import reviews as rv
from shared.service.deps import TOKEN_ERRORS, HTTPErrorOut, PoolDep, RequireToken
from shared.service.ops import INVALID_REQUEST, INVALID_VALUE
from shared.service.schemas import IsoTime

STATUSES = (rv.PENDING, rv.APPROVED, rv.REJECTED, rv.PUBLISHED, rv.FAILED)
# Which moves a person may make, from where.
APPROVE_FROM = (rv.PENDING, rv.FAILED, rv.REJECTED)
REJECT_FROM = (rv.PENDING, rv.FAILED, rv.APPROVED)
RENAME_FROM = (rv.PENDING, rv.FAILED, rv.APPROVED, rv.REJECTED)


class ReviewOut(BaseModel):
    review_id: str
    request_id: str
    store_id: str
    order_id: int
    product_id: int
    rating: int
    title: str
    body: str
    display_name: str
    has_photo: bool
    photo_url: str | None
    status: str
    publish_error: str | None  # WooCommerce's refusal, when it refused
    publish_attempts: int
    woocommerce_review_id: int | None
    created_at: IsoTime
    published_at: IsoTime | None

    @classmethod
    def of(cls, r: rv.Review) -> "ReviewOut":
        return cls(review_id=r.review_id, request_id=r.request_id, store_id=r.store_id, order_id=r.order_id,
                   product_id=r.product_id, rating=r.rating, title=r.title, body=r.body, display_name=r.display_name,
                   has_photo=r.photo is not None, photo_url=f"/photos/{r.photo}" if r.photo else None,
                   status=r.status, publish_error=r.publish_error, publish_attempts=r.publish_attempts,
                   woocommerce_review_id=r.woo_review_id, created_at=r.created_at, published_at=r.published_at)


class RenameIn(BaseModel):
    display_name: str = Field(min_length=1, max_length=rv.MAX_NAME)


def reviews_repository(pool: PoolDep) -> PgReviews:
    return PgReviews(pool)


ReviewsDep = Annotated[PgReviews, Depends(reviews_repository)]
ReviewId = Annotated[str, Path(min_length=36, max_length=36)]
NOT_FOUND = {404: {"model": HTTPErrorOut, "description": "No such review"},
             409: {"model": HTTPErrorOut, "description": "Not possible in the review's status"}}


def moderation_router() -> APIRouter:
    router = APIRouter(tags=["moderation"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    @router.get("/stores/{store_id}/reviews", summary="A store's reviews by status (default: the moderation queue)",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def queue(store_id: Annotated[str, Path(min_length=1, max_length=64)], reviews: ReviewsDep,
                    status: Annotated[list[str] | None, Query()] = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[ReviewOut]:
        wanted = tuple(status or (rv.PENDING, rv.FAILED))
        if set(wanted) - set(STATUSES):
            raise HTTPException(400, f"status must be among {', '.join(STATUSES)}")
        return [ReviewOut.of(r) for r in await reviews.queue(store_id, wanted, limit)]

    async def _move(reviews: PgReviews, review_id: str, to: str, allowed: tuple[str, ...],
                    display_name: str | None = None) -> ReviewOut:
        moved = await reviews.moderate(review_id, to, allowed, display_name)
        if moved is None:
            current = await reviews.get(review_id)
            if current is None:
                raise HTTPException(404, "no such review")
            raise HTTPException(409, f"a {current.status} review can't be changed so")
        return ReviewOut.of(moved)

    @router.post("/reviews/{review_id}/approve", summary="Approve (publish) a review", responses=NOT_FOUND)
    async def approve(review_id: ReviewId, reviews: ReviewsDep) -> ReviewOut:
        return await _move(reviews, review_id, rv.APPROVED, APPROVE_FROM)

    @router.post("/reviews/{review_id}/reject", summary="Reject a review (it is not published)", responses=NOT_FOUND)
    async def reject(review_id: ReviewId, reviews: ReviewsDep) -> ReviewOut:
        return await _move(reviews, review_id, rv.REJECTED, REJECT_FROM)

    @router.patch("/reviews/{review_id}", summary="Change a review's display name before it is published",
                  responses={**NOT_FOUND, **INVALID_VALUE, **INVALID_REQUEST})
    async def rename(review_id: ReviewId, body: RenameIn, reviews: ReviewsDep) -> ReviewOut:
        name = rv.clean(body.display_name, rv.MAX_NAME)
        if not name:
            raise HTTPException(400, "display_name is empty")
        current = await reviews.get(review_id)
        if current is None:
            raise HTTPException(404, "no such review")
        return await _move(reviews, review_id, current.status, RENAME_FROM, name)

    return router
