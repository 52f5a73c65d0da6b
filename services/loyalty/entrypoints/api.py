"""Loyalty's HTTP app, behind the service's bearer token: a customer's balance, tier and ledger,
each store's program rules, redemption of points for coupons, referrals. Run: `uvicorn services.loyalty.entrypoints.api:create_app --factory --port 8003`."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Path, Query
from babel.numbers import get_currency_precision
from fastapi.responses import JSONResponse

from services.loyalty.adapters.ledger import PgLedger
from services.loyalty.adapters.members import PgMembers
from services.loyalty.adapters.statistics import PgProgramStatistics
from services.loyalty.adjust import adjust
from services.loyalty.adapters.store_rules import PgStoreRules
from services.loyalty.bootstrap import bootstrap, default_rules, transactions
from services.loyalty.config import LoyaltySettings
from services.loyalty.domain.rules import rules_from_json, rules_to_json
from services.loyalty.domain.redemption import Refused
from services.loyalty.domain.referral import referral_code
from services.loyalty.entrypoints.schemas import (AdjustmentIn, AdjustmentOut, BalanceOut, BirthdayIn, BirthdayOut,
                                                  LedgerRowOut, RedeemIn, RedemptionOut, ReferralCodeOut,
                                                  ReferralIn, ReferralOut, RulesIn, RulesOut, StatisticsOut)
from services.loyalty.referrals import refer
from shared.events.envelope import utcnow
from shared.service.app import build_app
from shared.service.deps import TOKEN_ERRORS, PoolDep, RequireToken, ServiceDep
from shared.service.ops import CONFLICT, INVALID_REQUEST, INVALID_VALUE, ProblemOut

# Refusals of a redemption: nothing was spent. 422: the request can't be met as asked; 409: the
# store's state (no REST access, the key used for another amount).
_REFUSAL_STATUS = {"store_not_connected": 409, "idempotency_key_reused": 409}
REDEEM_ERRORS = {**CONFLICT, 422: {"model": ProblemOut | dict, "description": "Refused (below the minimum, more"
                                   " than available, no email, not a whole amount) or not as declared"}}

CustomerKey = Annotated[str, Path(min_length=3, max_length=200)]
StoreId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


def ledger_repository(pool: PoolDep) -> PgLedger:
    return PgLedger(pool)


def rules_repository(pool: PoolDep, service: ServiceDep) -> PgStoreRules:
    return PgStoreRules(pool, default_rules(service.settings))


LedgerDep = Annotated[PgLedger, Depends(ledger_repository)]
RulesDep = Annotated[PgStoreRules, Depends(rules_repository)]


def points_router() -> APIRouter:
    router = APIRouter(tags=["points"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    @router.get("/customers/{customer_key}/balance", summary="Points balance by bucket, and tier",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def get_balance(customer_key: CustomerKey, ledger: LedgerDep, pool: PoolDep) -> BalanceOut:
        balance = await ledger.balance(customer_key)
        member = await PgMembers(pool).get(customer_key)
        return BalanceOut(customer_key=customer_key, **balance, owed=max(-balance["available"], 0),
                          tier=member.tier if member else None)

    @router.get("/customers/{customer_key}/ledger", summary="Ledger rows, newest first (paginated)",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def get_ledger(customer_key: CustomerKey, ledger: LedgerDep,
                         limit: Annotated[int, Query(ge=1, le=500)] = 500,
                         offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[LedgerRowOut]:
        rows = await ledger.entries(customer_key, limit=limit, offset=offset)
        return [LedgerRowOut(entry_id=e.entry_id, cause_event_id=e.cause_event_id, order_id=e.order_id,
                             bucket=e.bucket, points=e.points, reason=e.reason, created_at=e.created_at)
                for e in rows]

    return router


def redemption_router() -> APIRouter:
    router = APIRouter(tags=["redemption"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    @router.post("/customers/{customer_key}/redemptions", status_code=201,
                 summary="Redeem points for a WooCommerce coupon (201 issued, 202 held: the store is away)",
                 responses={202: {"model": RedemptionOut, "description": "Held: created on a retry, or given back"},
                            **REDEEM_ERRORS, **INVALID_VALUE})
    async def redeem(customer_key: CustomerKey, body: RedeemIn, service: ServiceDep, _: PoolDep) -> RedemptionOut:
        try:
            r = await service.redeemer.redeem(customer_key, body.points, body.idempotency_key)
        except Refused as exc:
            return JSONResponse({"error": exc.code, "message": exc.message},
                                status_code=_REFUSAL_STATUS.get(exc.code, 422))
        out = RedemptionOut(redemption_id=r.redemption_id, status=r.status, points=r.points, amount=str(r.amount),
                            currency=r.currency, minimum_amount=str(r.minimum_amount),
                            code=r.code if r.status == "issued" else None, coupon_id=r.coupon_id,
                            expires_at=r.expires_at)
        if r.status == "returned":
            return JSONResponse({"error": "store_refused_coupon",
                                 "message": "the store refused the coupon; the points were given back"},
                                status_code=409)
        return out if r.status == "issued" else JSONResponse(out.model_dump(mode="json"), status_code=202)

    return router


def referral_router() -> APIRouter:
    router = APIRouter(tags=["referrals"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    @router.get("/customers/{customer_key}/referral", summary="The member's referral code and link",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def get_referral(customer_key: CustomerKey, pool: PoolDep, service: ServiceDep) -> ReferralCodeOut:
        store_id = customer_key.split(":", 1)[0]
        async with transactions(lambda: pool, service.settings)() as tx:
            code = await tx.referrals.code_for(await tx.links.canonical(customer_key), store_id,
                                               referral_code(customer_key))
        access = service.settings.store_rest.get(store_id)
        link = f"{access.url.rstrip('/')}/?{urlencode({'aftercart_ref': code})}" if access else None
        return ReferralCodeOut(customer_key=customer_key, code=code, link=link)

    @router.post("/referrals", status_code=201, summary="A new customer came with a referral code",
                 responses={**REDEEM_ERRORS, **INVALID_VALUE})
    async def post_referral(body: ReferralIn, pool: PoolDep, service: ServiceDep) -> ReferralOut:
        try:
            async with transactions(lambda: pool, service.settings)() as tx:
                ref = await refer(tx, code=body.code, referred_key=body.referred_key, referred_email=body.referred_email)
        except Refused as exc:
            return JSONResponse({"error": exc.code, "message": exc.message}, status_code=422)
        out = ReferralOut(referred_key=ref.referred_key, referrer_key=ref.referrer_key, status=ref.status,
                          reason=ref.reason)
        if ref.status == "refused":  # recorded with its reason, and said so
            return JSONResponse({"error": ref.reason, "message": "the referral was refused", **out.model_dump()},
                                status_code=422)
        return out

    return router


def program_router() -> APIRouter:
    router = APIRouter(tags=["program"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    @router.post("/customers/{customer_key}/adjustments", status_code=201,
                 summary="Adjust a balance by hand (reason and actor recorded)", responses={**REDEEM_ERRORS, **INVALID_VALUE})
    async def post_adjustment(customer_key: CustomerKey, body: AdjustmentIn, pool: PoolDep,
                              service: ServiceDep) -> AdjustmentOut:
        try:
            async with transactions(lambda: pool, service.settings)() as tx:
                done = await adjust(tx, customer_key=customer_key, points=body.points, reason=body.reason,
                                    actor=body.actor, idempotency_key=body.idempotency_key, now=utcnow())
        except Refused as exc:
            return JSONResponse({"error": exc.code, "message": exc.message},
                                status_code=_REFUSAL_STATUS.get(exc.code, 422))
        return AdjustmentOut(**done)

    @router.put("/customers/{customer_key}/birthday", summary="Set the member's birthday (month and day)",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def put_birthday(customer_key: CustomerKey, body: BirthdayIn, pool: PoolDep) -> BirthdayOut:
        await PgMembers(pool).set_birthday(customer_key, customer_key.split(":", 1)[0], body.month, body.day)
        return BirthdayOut(customer_key=customer_key, month=body.month, day=body.day)

    @router.get("/stores/{store_id}/statistics", summary="The store's program figures",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def get_statistics(store_id: StoreId, pool: PoolDep, rules: RulesDep, service: ServiceDep) -> StatisticsOut:
        f = await PgProgramStatistics(pool).figures(store_id)
        outstanding = f["pending"] + f["available"]
        currency = (await rules.for_store(store_id)).base_currency
        per_unit = Decimal(service.settings.redeem_points_per_unit)
        minor = Decimal(1).scaleb(-get_currency_precision(currency))
        return StatisticsOut(store_id=store_id, members=f["members"], awarded_by_orders=f["awarded_by_orders"],
                             reversed=max(f["awarded_by_orders"] - f["held_by_orders"], 0), pending=f["pending"],
                             available=f["available"], redeemed=f["redeemed"], expired=f["expired"],
                             liability_points=outstanding,
                             liability_amount=str((Decimal(outstanding) / per_unit).quantize(minor)),
                             currency=currency)

    return router


def rules_router() -> APIRouter:
    router = APIRouter(tags=["rules"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    def out(store_id: str, rules) -> RulesOut:
        return RulesOut(store_id=store_id, **rules_to_json(rules))

    @router.get("/stores/{store_id}/rules", summary="The store's earning rules in force",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def get_rules(store_id: StoreId, rules: RulesDep) -> RulesOut:
        return out(store_id, await rules.for_store(store_id))

    @router.put("/stores/{store_id}/rules", summary="Set the store's earning rules (fields left out: defaults)",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def put_rules(store_id: StoreId, body: RulesIn, rules: RulesDep) -> RulesOut:
        given = body.model_dump(mode="json", exclude_none=True)
        parsed = rules_from_json(given, rules.defaults)  # checks that what is stored reads back
        stored = {k: v for k, v in rules_to_json(parsed).items() if k in given}
        await rules.put_json(store_id, stored)
        return out(store_id, await rules.for_store(store_id))

    return router


def create_app(settings: LoyaltySettings | None = None) -> FastAPI:
    loyalty = bootstrap(settings)
    return build_app(title="Aftercart loyalty", description="Points ledger, tiers, coupons, referrals.",
                     runtime=loyalty.runtime, routers=[points_router(), rules_router(), redemption_router(),
                                                                 referral_router(), program_router()], service=loyalty)
