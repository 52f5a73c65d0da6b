"""Loyalty's HTTP app: a customer's points, behind the service's bearer token.
Run: `uvicorn services.loyalty.entrypoints.api:create_app --factory --port 8003`."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path
from pydantic import BaseModel

from services.loyalty.adapters.ledger import PgLedger
from services.loyalty.bootstrap import bootstrap
from services.loyalty.config import LoyaltySettings
from shared.service.app import build_app
from shared.service.deps import TOKEN_ERRORS, PoolDep, RequireToken
from shared.service.ops import INVALID_REQUEST, INVALID_VALUE
from shared.service.schemas import IsoTime

CustomerKey = Annotated[str, Path(min_length=3, max_length=200)]


class BalanceOut(BaseModel):
    customer_key: str
    pending: int
    available: int


class LedgerRowOut(BaseModel):
    entry_id: str
    cause_event_id: str
    order_id: int | None
    bucket: str
    points: int
    reason: str
    created_at: IsoTime


def ledger_repository(pool: PoolDep) -> PgLedger:
    return PgLedger(pool)


LedgerDep = Annotated[PgLedger, Depends(ledger_repository)]


def points_router() -> APIRouter:
    router = APIRouter(tags=["points"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    @router.get("/customers/{customer_key}/balance", summary="Points balance by bucket",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def get_balance(customer_key: CustomerKey, ledger: LedgerDep) -> BalanceOut:
        return BalanceOut(customer_key=customer_key, **await ledger.balance(customer_key))

    @router.get("/customers/{customer_key}/ledger", summary="Ledger rows, newest first",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def get_ledger(customer_key: CustomerKey, ledger: LedgerDep) -> list[LedgerRowOut]:
        return [LedgerRowOut(entry_id=e.entry_id, cause_event_id=e.cause_event_id, order_id=e.order_id,
                             bucket=e.bucket, points=e.points, reason=e.reason, created_at=e.created_at)
                for e in await ledger.entries(customer_key)]

    return router


def create_app(settings: LoyaltySettings | None = None) -> FastAPI:
    loyalty = bootstrap(settings)
    return build_app(title="Aftercart loyalty", description="Points ledger, tiers, coupons, referrals.",
                     runtime=loyalty.runtime, routers=[points_router()], service=loyalty)
