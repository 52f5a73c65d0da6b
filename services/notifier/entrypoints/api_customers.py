"""The internal API about customers (bearer token): a customer's message history, their
preferences (marketing consent as recorded through the store, and their time zone), and the
suppression list. Addresses are accepted (to suppress one) but never answered: entries are shown
by their hash.

    GET  /stores/{store_id}/customers/{customer}/messages      newest first, no addresses or bodies
    GET  /stores/{store_id}/customers/{customer}/preferences
    GET  /stores/{store_id}/customers/{customer}/profile       the latest from profiles.v1 (404: none)
    PUT  /stores/{store_id}/customers/{customer}/preferences   {"marketing": true, "timezone": "Europe/Berlin"}

A customer is named by the part of its key after the store ("c25" registered, "e<sha256>" a guest
by email, "o12" an order without a customer): the key "<store>:<customer>" split, so no path
segment carries a ":".
    GET  /suppressions?store_id=s1[&reason=...&after=<hash>&limit=N]
    POST /suppressions                     {"store_id", "address" | "address_hash", "reason", "detail"?}
    DELETE /suppressions?store_id=&address_hash=&reason=   ("erased" entries stay: 409)
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field, field_validator, model_validator

from services.notifier.domain.consent import API, ERASED, address_hash
from services.notifier.domain.quiet_hours import zone
from services.notifier.preferences import Preferences, preferences, set_marketing
from shared.events.envelope import utcnow
from shared.service.deps import TOKEN_ERRORS, HTTPErrorOut, PoolDep, RequireToken, ServiceDep
from shared.service.ops import INVALID_REQUEST, INVALID_VALUE

# "<store>:c<id>" (registered), "<store>:e<sha256>" (guest by email), "<store>:o<id>" (no customer)
# Store ids as ingest registers them (services/ingest/entrypoints/admin.py's StoreIn).
STORE = r"^[a-z0-9][a-z0-9-]{1,31}$"
CUSTOMER = r"^(c[0-9]{1,20}|e[0-9a-f]{64}|o[0-9]{1,20})$"
HASH = r"^[0-9a-f]{64}$"
StoreId = Annotated[str, Path(pattern=STORE)]
Customer = Annotated[str, Path(pattern=CUSTOMER, description="the customer key after '<store>:'")]
ApiReason = Literal["unsubscribed", "hard_bounce", "invalid_address", "erased"]
NOT_FOUND: dict[int | str, dict] = {404: {"model": HTTPErrorOut, "description": "No such entry"}}
STAYS: dict[int | str, dict] = {409: {"model": HTTPErrorOut, "description": "An erasure's entry stays"}}


class MessageItem(BaseModel):
    message_id: str
    cause_event_id: str
    cause_type: str
    template: str
    channel: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None


class PreferencesOut(BaseModel):
    customer_key: str
    marketing: bool  # what gating acts on: consent stated, and the address not unsubscribed
    consent: bool | None  # as last stated (None: never)
    source: str | None
    changed_at: datetime | None
    timezone: str | None
    unsubscribed: bool

    @classmethod
    def of(cls, p: Preferences) -> "PreferencesOut":
        return cls(customer_key=p.customer_key, marketing=p.marketing is True and not p.unsubscribed,
                   consent=p.marketing, source=p.source, changed_at=p.changed_at, timezone=p.timezone,
                   unsubscribed=p.unsubscribed)


class PreferencesIn(BaseModel):
    model_config = {"extra": "forbid", "strict": True}  # `"marketing": 0` is no answer
    marketing: bool
    timezone: str | None = Field(default=None, max_length=64, description="IANA zone; \"\" clears it")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value and zone(value) is None:
            raise ValueError(f"not an IANA time zone: {value!r}")
        return value


class ProfileOut(BaseModel):
    """A customer's profile as the profiles worker last published it (shared/events/profiles.py)."""
    store_id: str
    customer_key: str
    orders: int
    lifetime_value: str
    currency: str | None
    lifetime_value_by_currency: dict[str, str]
    average_order_value: str | None
    first_order_at: datetime | None
    last_order_at: datetime | None
    segment: str
    products: list[int]
    categories: list[str]
    category_affinity: dict[str, float]
    replenishment_due: dict[str, datetime]


class SuppressionOut(BaseModel):
    store_id: str
    address_hash: str
    reason: str
    detail: str | None
    created_at: datetime


class SuppressionIn(BaseModel):
    model_config = {"extra": "forbid", "strict": True}
    store_id: str = Field(pattern=STORE)
    address: str | None = Field(default=None, max_length=320, description="hashed on arrival, never stored")
    address_hash: str | None = Field(default=None, pattern=HASH)
    reason: ApiReason
    detail: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _one_address(self) -> "SuppressionIn":
        if (self.address is None) == (self.address_hash is None):
            raise ValueError("give either address or address_hash")
        if self.address is not None and "@" not in self.address:
            raise ValueError("address must be an email address")
        return self

    @property
    def digest(self) -> str:
        return self.address_hash or address_hash(self.address or "")


def get_transactions(service: ServiceDep, pool: PoolDep) -> Any:
    """Units of work on the service's pool (unit tests override this dependency with in-memory ones)."""
    return service.transactions(pool)


TransactionsDep = Annotated[Any, Depends(get_transactions)]


def _key(store_id: str, customer: str) -> str:
    return f"{store_id}:{customer}"  # shared/ids.py customer_key's shape


def customers_router() -> APIRouter:
    router = APIRouter(tags=["customers"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    @router.get("/stores/{store_id}/customers/{customer}/messages",
                summary="A customer's messages, newest first (no addresses, no bodies)",
                responses={**INVALID_REQUEST})
    async def history(store_id: StoreId, customer: Customer, transactions: TransactionsDep,
                      limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[MessageItem]:
        async with transactions() as tx:
            return [MessageItem(**m.__dict__) for m in await tx.messages.history(_key(store_id, customer), limit)]

    @router.get("/stores/{store_id}/customers/{customer}/preferences",
                summary="A customer's marketing consent and time zone",
                responses={**INVALID_REQUEST})
    async def get_preferences(store_id: StoreId, customer: Customer,
                              transactions: TransactionsDep) -> PreferencesOut:
        async with transactions() as tx:
            return PreferencesOut.of(await preferences(tx, store_id, _key(store_id, customer)))

    @router.get("/stores/{store_id}/customers/{customer}/profile",
                summary="A customer's latest profile (orders, lifetime value, segment, products, replenishment)",
                responses={**INVALID_REQUEST, **NOT_FOUND})
    async def get_profile(store_id: StoreId, customer: Customer, transactions: TransactionsDep) -> ProfileOut:
        async with transactions() as tx:
            profile = await tx.profiles.get(_key(store_id, customer))
        if profile is None or profile.store_id != store_id:
            raise HTTPException(404, "no profile for this customer")
        return ProfileOut(**profile.model_dump(mode="json"))

    @router.put("/stores/{store_id}/customers/{customer}/preferences",
                summary="Record consent (the store's staff) and time zone",
                responses={**INVALID_REQUEST, **INVALID_VALUE})
    async def put_preferences(store_id: StoreId, customer: Customer, body: PreferencesIn,
                              transactions: TransactionsDep) -> PreferencesOut:
        async with transactions() as tx:
            return PreferencesOut.of(await set_marketing(
                tx, store_id=store_id, customer_key=_key(store_id, customer), marketing=body.marketing, source=API,
                at=utcnow(), timezone=body.timezone))

    @router.get("/suppressions", summary="A store's suppression list (by address hash)",
                responses={**INVALID_REQUEST})
    async def list_suppressions(transactions: TransactionsDep,
                                store_id: Annotated[str, Query(pattern=STORE)],
                                reason: ApiReason | None = None,
                                after: Annotated[str | None, Query(pattern=HASH)] = None,
                                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[SuppressionOut]:
        async with transactions() as tx:
            rows = await tx.suppressions.list(store_id, reason=reason, limit=limit, after=after)
        return [SuppressionOut(**r.__dict__) for r in rows]

    @router.post("/suppressions", status_code=201, summary="Suppress an address (it is stored as its hash)",
                 responses={200: {"model": SuppressionOut, "description": "Already suppressed: unchanged"},
                            **INVALID_REQUEST, **INVALID_VALUE})
    async def add_suppression(body: SuppressionIn, transactions: TransactionsDep,
                              response: Response) -> SuppressionOut:
        async with transactions() as tx:
            if not await tx.suppressions.add(body.store_id, body.digest, body.reason, body.detail):
                response.status_code = 200  # already there: unchanged
            entry = await tx.suppressions.get(body.store_id, body.digest, body.reason)
        return SuppressionOut(**entry.__dict__)

    @router.delete("/suppressions", status_code=204, summary="Lift a suppression (not an erasure's)",
                   responses={**INVALID_REQUEST, **NOT_FOUND, **STAYS})
    async def remove_suppression(transactions: TransactionsDep,
                                 store_id: Annotated[str, Query(pattern=STORE)],
                                 address_hash: Annotated[str, Query(pattern=HASH)],
                                 reason: ApiReason) -> Response:
        if reason == ERASED:
            raise HTTPException(409, "an erased customer's address stays suppressed")
        async with transactions() as tx:
            if not await tx.suppressions.remove(store_id, address_hash, reason):
                raise HTTPException(404, "no such suppression")
        return Response(status_code=204)

    return router
