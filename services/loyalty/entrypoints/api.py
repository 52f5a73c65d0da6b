"""Loyalty's HTTP app. Run: `uvicorn services.loyalty.entrypoints.api:create_app --factory --port 8003`."""
from __future__ import annotations

from fastapi import APIRouter, FastAPI, Path, Request

from services.loyalty.adapters.ledger import balance
from services.loyalty.bootstrap import bootstrap
from services.loyalty.config import LoyaltySettings
from shared.service.ops import pool_or_503
from shared.service.app import build_app


def points_router() -> APIRouter:
    router = APIRouter(tags=["points"])

    @router.get("/customers/{customer_key}/balance", summary="Points balance by bucket")
    async def get_balance(request: Request, customer_key: str = Path(min_length=3, max_length=200)) -> dict:
        pool = pool_or_503(request.app.state.loyalty.runtime)
        return {"customer_key": customer_key, **await balance(pool, customer_key)}

    @router.get("/customers/{customer_key}/ledger", summary="Ledger rows, newest first")
    async def get_ledger(request: Request, customer_key: str = Path(min_length=3, max_length=200)) -> list[dict]:
        pool = pool_or_503(request.app.state.loyalty.runtime)
        rows = await pool.fetch("SELECT entry_id, cause_event_id, order_id, bucket, points, reason, created_at"
                                " FROM ledger WHERE customer_key = $1 ORDER BY created_at DESC, entry_id LIMIT 500",
                                customer_key)
        return [{**dict(r), "created_at": r["created_at"].isoformat()} for r in rows]

    return router


def create_app(settings: LoyaltySettings | None = None) -> FastAPI:
    loyalty = bootstrap(settings)
    return build_app(title="Aftercart loyalty", description="Points ledger, tiers, coupons, referrals.",
                     runtime=loyalty.runtime, routers=[points_router()], state_name="loyalty", state=loyalty)
