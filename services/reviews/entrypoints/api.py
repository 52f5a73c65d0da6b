"""Reviews' HTTP app. Run: `uvicorn services.reviews.entrypoints.api:create_app --factory --port 8004`."""
from __future__ import annotations

from fastapi import APIRouter, FastAPI, Query, Request

from services.reviews.bootstrap import bootstrap
from services.reviews.config import ReviewsSettings
from shared.service.ops import pool_or_503
from shared.service.app import build_app


def requests_router() -> APIRouter:
    router = APIRouter(tags=["review requests"])

    @router.get("/requests", summary="Review requests of a customer")
    async def list_requests(request: Request, customer_key: str = Query(min_length=3, max_length=200)) -> list[dict]:
        pool = pool_or_503(request.app.state.reviews.runtime)
        rows = await pool.fetch("SELECT request_id, store_id, order_id, product_ids, status, due_at, created_at"
                                " FROM review_requests WHERE customer_key = $1 ORDER BY created_at DESC LIMIT 200",
                                customer_key)
        return [{**dict(r), "due_at": r["due_at"].isoformat(), "created_at": r["created_at"].isoformat()}
                for r in rows]

    return router


def create_app(settings: ReviewsSettings | None = None) -> FastAPI:
    reviews = bootstrap(settings)
    return build_app(title="Aftercart reviews", description="Review requests at the right moment.",
                     runtime=reviews.runtime, routers=[requests_router()], state_name="reviews", state=reviews)
