"""The internal API (bearer token, shared/service/deps.py's RequireToken): stores, secret rotation,
deliveries, an order's events, replay, outbox depth, and the outbox rows the relay parked (list,
replay, discard). Secrets go in, never come out. Routes parse,
call one adapter through its typed dependency, and map the records to response models."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from services.ingest.adapters.delivery_log import DeliveryRecord, PgDeliveryLog
from services.ingest.adapters.order_outbox import HeldBehind, NotParked, OutboxRecord, ParkedRow, PgOrderOutbox
from services.ingest.adapters.stores import PgStores
from services.ingest.domain.stores import (CREDENTIALS, MAX_SECRET, MAX_SOURCE_URL, Store, StoreExists,
                                           secret_warnings, secret_weakness)
from services.ingest.domain.tls_trust import MAX_CA_BUNDLE, check_ca_bundle, normalize_fingerprint
from shared.service.deps import TOKEN_ERRORS, HTTPErrorOut, PoolDep, RequireToken, ServiceDep
from shared.logging import get_logger
from shared.service.ops import INVALID_REQUEST, INVALID_VALUE, ProblemOut

log = get_logger(__name__)

_CA_BUNDLE = ("PEM text of the CA certificate(s) that sign the store's https certificate, trusted for"
              " this store instead of the system's CAs (host name still checked)")
_CERT_SHA256 = ("SHA-256 fingerprint of the certificate the store's https REST API must present (64 hex"
                " digits, colons allowed); checked in the TLS handshake before anything is sent")


class _TlsTrustIn(BaseModel):
    """What a store may name to trust for a self-signed https REST API (domain/tls_trust.py)."""
    rest_ca_bundle: str | None = Field(default=None, max_length=MAX_CA_BUNDLE, description=_CA_BUNDLE)
    rest_cert_sha256: str | None = Field(default=None, max_length=200, description=_CERT_SHA256)

    @field_validator("rest_ca_bundle")
    @classmethod
    def _bundle(cls, v: str | None) -> str | None:
        return None if v is None else check_ca_bundle(v)

    @field_validator("rest_cert_sha256")
    @classmethod
    def _fingerprint(cls, v: str | None) -> str | None:
        return None if v is None else normalize_fingerprint(v)


# The adapters bootstrap built, once storage is connected (PoolDep answers 503 until then).
def _stores(service: ServiceDep, _: PoolDep) -> PgStores:
    return service.stores


def _delivery_log(service: ServiceDep, _: PoolDep) -> PgDeliveryLog:
    return service.delivery_log


def _order_outbox(service: ServiceDep, _: PoolDep) -> PgOrderOutbox:
    return service.order_outbox


StoresDep = Annotated[PgStores, Depends(_stores)]
DeliveryLogDep = Annotated[PgDeliveryLog, Depends(_delivery_log)]
OrderOutboxDep = Annotated[PgOrderOutbox, Depends(_order_outbox)]


class StoreIn(_TlsTrustIn):
    store_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,31}$", description="short stable id")
    source_url: HttpUrl = Field(max_length=MAX_SOURCE_URL,
                                description="the store's home URL as sent in X-WC-Webhook-Source")
    webhook_secret: str = Field(min_length=1, max_length=MAX_SECRET,
                                description="the secret typed in the store's WooCommerce webhooks (any, as"
                                            " WooCommerce accepts; under 16 characters or low entropy is"
                                            " accepted with the warning weak_secret)")
    rest_url: HttpUrl | None = Field(default=None, max_length=MAX_SOURCE_URL,
                                     description="base URL of the store's site for the REST API")
    consumer_key: str | None = Field(default=None, max_length=200)
    consumer_secret: str | None = Field(default=None, max_length=200)
    timezone: str = "UTC"
    locale: str | None = None


class StorePatch(_TlsTrustIn):
    """What PATCH /stores/{id} may change; a field left out stays as it is. Secrets are not here:
    the webhook secret changes only by rotate-secret."""
    model_config = ConfigDict(extra="forbid")

    source_url: HttpUrl | None = Field(default=None, max_length=MAX_SOURCE_URL,
                                       description="the store's home URL as sent in X-WC-Webhook-Source")
    rest_url: HttpUrl | None = Field(default=None, max_length=MAX_SOURCE_URL,
                                     description="base URL of the store's site for the REST API (null: none)")
    consumer_key: str | None = Field(default=None, max_length=200)
    consumer_secret: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    locale: str | None = Field(default=None, max_length=35)

    @model_validator(mode="after")
    def _something_to_change(self) -> StorePatch:
        if not self.model_fields_set:
            raise ValueError("nothing to change: give at least one of " + ", ".join(type(self).model_fields))
        for name in ("source_url", "timezone"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, str | None]:
        return {name: (str(v) if isinstance(v, HttpUrl) else v)
                for name, v in ((n, getattr(self, n)) for n in sorted(self.model_fields_set))}


class RotateIn(BaseModel):
    new_secret: str = Field(min_length=1, max_length=MAX_SECRET,
                            description="any non-empty secret; a weak one is accepted with the warning weak_secret")
    overlap_seconds: int | None = Field(default=None, ge=0, le=30 * 86400,
                                        description="how long the old secret stays valid")


class StoreOut(BaseModel):
    """A store as the API shows it: never a secret."""
    store_id: str
    source_url: str
    rest_url: str | None
    rest_ca_bundle_set: bool = Field(default=False, description="whether a CA bundle is trusted for the REST API")
    rest_cert_sha256: str | None = Field(default=None, description="the pinned certificate fingerprint, if any")
    timezone: str
    locale: str | None
    previous_secret_until: str | None = Field(description="ISO time until which the previous secret is accepted")
    warnings: list[str] = Field(default_factory=list,
                                description="weak_secret: the webhook secret just set is under 16 characters or"
                                            " low entropy (accepted; rotate to a long random one when you can)")

    @classmethod
    def of(cls, s: Store, warnings: list[str] | None = None) -> StoreOut:
        return cls(store_id=s.store_id, source_url=s.source_url, rest_url=s.rest_url,
                   rest_ca_bundle_set=bool(s.rest_ca_bundle), rest_cert_sha256=s.rest_cert_sha256,
                   timezone=s.timezone, locale=s.locale,
                   previous_secret_until=s.previous_secret_until.isoformat() if s.previous_secret_until else None,
                   warnings=warnings or [])


async def _secret_set(stores: PgStores, store: Store, secret: str, action: str) -> list[str]:
    """The warnings of a secret just set: a weak one is logged (why, never the secret) and counted."""
    warnings = secret_warnings(secret)
    if warnings:
        log.warning("store_secret_weak", store_id=store.store_id, action=action, reason=secret_weakness(secret),
                    hint="accepted; rotate to a long random secret (WooCommerce webhook settings) when you can")
    await stores.count_weak_secrets()
    return warnings


class DeliveryOut(BaseModel):
    id: int
    store_id: str
    topic: str
    resource_id: str | None
    delivery_id: str | None
    webhook_id: str | None
    origin: str
    outcome: str
    events: int
    received_at: str
    bytes: int = Field(description="size of the body as received (the body itself holds personal data)")

    @classmethod
    def of(cls, d: DeliveryRecord) -> DeliveryOut:
        return cls(id=d.id, store_id=d.store_id, topic=d.topic, resource_id=d.resource_id, delivery_id=d.delivery_id,
                   webhook_id=d.webhook_id, origin=d.origin, outcome=d.outcome, events=d.events,
                   received_at=d.received_at.isoformat(), bytes=d.bytes)


class OrderEventOut(BaseModel):
    seq: int
    event_id: str
    type: str
    topic: str
    key: str
    created_at: str
    published_at: str | None
    envelope: dict = Field(description="the event exactly as published")
    parked: str | None = Field(default=None, description="why the relay parked it (GET /outbox/parked), if it did")

    @classmethod
    def of(cls, e: OutboxRecord) -> OrderEventOut:
        return cls(seq=e.seq, event_id=e.event_id, type=e.type, topic=e.topic, key=e.key,
                   created_at=e.created_at.isoformat(),
                   published_at=e.published_at.isoformat() if e.published_at else None, envelope=e.envelope,
                   parked=e.parked)


class ReplayOut(BaseModel):
    requeued: int


class OutboxStatsOut(BaseModel):
    depth: int = Field(description="rows waiting to be published (parked ones not counted)")
    oldest_age_seconds: float
    parked: int = Field(description="rows parked, waiting for a replay or a discard")


class ParkedOut(BaseModel):
    """An outbox row the relay parked: Kafka refused it for good, or it waits ("held") behind such a
    row of the same key and subject (one order's events stay in order)."""
    seq: int
    event_id: str
    type: str
    topic: str
    key: str
    subject: str
    error_type: str = Field(description="Kafka's error, e.g. MessageSizeTooLargeError; \"held\" for a row waiting")
    reason: str
    behind: int | None = Field(description="held: the parked row it waits behind")
    bytes: int = Field(description="size of the event as it would be published (the event holds personal data)")
    created_at: str
    parked_at: str
    discarded_at: str | None

    @classmethod
    def of(cls, p: ParkedRow) -> ParkedOut:
        return cls(seq=p.seq, event_id=p.event_id, type=p.event_type, topic=p.topic, key=p.key, subject=p.subject,
                   error_type=p.error_type, reason=p.reason, behind=p.behind, bytes=p.bytes,
                   created_at=p.created_at.isoformat(), parked_at=p.parked_at.isoformat(),
                   discarded_at=p.discarded_at.isoformat() if p.discarded_at else None)


class ReleasedOut(BaseModel):
    seq: int
    released: list[int] = Field(description="rows back in the publishing queue, in the order they go out")


SeqPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="the parked row's outbox seq")]
_PARKED_ERRORS: dict[int | str, dict] = {
    404: {"model": HTTPErrorOut, "description": "No such parked row (or it was discarded)"},
    409: {"model": HTTPErrorOut, "description": "The row waits behind another parked row: act on that one"},
    **INVALID_REQUEST}


def admin_router() -> APIRouter:
    router = APIRouter(tags=["internal"], dependencies=[RequireToken], responses=TOKEN_ERRORS)

    @router.post("/stores", summary="Register a store", status_code=201,
                 description="Registers a new store. A store id already registered is a 409 (store_exists)"
                             " and changes nothing, whatever the body: change a store with PATCH"
                             " /stores/{store_id}, its webhook secret with rotate-secret. Secrets are stored"
                             " encrypted and never returned; a weak webhook secret is accepted with the"
                             " warning weak_secret.",
                 responses={409: {"model": ProblemOut, "description": "The store id is registered already"
                                  " (store_exists), or another store has this source URL"},
                            **INVALID_VALUE, **INVALID_REQUEST})
    async def register_store(body: StoreIn, stores: StoresDep) -> StoreOut:
        try:
            store = await stores.register(
                body.store_id, str(body.source_url), body.webhook_secret,
                str(body.rest_url) if body.rest_url else None, body.consumer_key, body.consumer_secret,
                body.timezone, body.locale, rest_ca_bundle=body.rest_ca_bundle,
                rest_cert_sha256=body.rest_cert_sha256)
        except StoreExists:
            log.warning("store_register_refused", store_id=body.store_id, reason="store_exists")
            return JSONResponse(status_code=409, content=ProblemOut(
                error="store_exists",
                message=f"store {body.store_id} is registered already and was not changed; change it with"
                        f" PATCH /stores/{body.store_id}, its secret with"
                        f" POST /stores/{body.store_id}/rotate-secret").model_dump())
        return StoreOut.of(store, await _secret_set(stores, store, body.webhook_secret, "register"))

    @router.patch("/stores/{store_id}", summary="Change a store's source, REST access, time zone or locale",
                  description="Sets the fields the body carries (source_url, rest_url, consumer_key,"
                              " consumer_secret, rest_ca_bundle, rest_cert_sha256, timezone, locale; null clears"
                              " rest_url, the credentials, the trusted CA bundle or fingerprint, or the"
                              " locale); the others stay. Never a secret: the webhook secret changes only by"
                              " rotate-secret. The change is logged by field names, never the credentials.",
                  responses={404: {"model": HTTPErrorOut, "description": "No such store"},
                             409: {"model": ProblemOut, "description": "Another store has this source URL"},
                             **INVALID_VALUE, **INVALID_REQUEST})
    async def update_store(store_id: str, body: StorePatch, stores: StoresDep) -> StoreOut:
        changes = body.changes()
        store = await stores.update(store_id, changes)
        if store is None:
            raise HTTPException(404, "no such store")
        # Field names only: the credentials' values never, and a URL may carry them too.
        log.info("store_updated", store_id=store_id, fields=sorted(changes),
                 credentials_changed=bool(CREDENTIALS & set(changes)))
        return StoreOut.of(store)

    @router.get("/stores", summary="List stores (no secrets)")
    async def list_stores(stores: StoresDep) -> list[StoreOut]:
        return [StoreOut.of(s) for s in await stores.all()]

    @router.post("/stores/{store_id}/rotate-secret", summary="Rotate the webhook secret with an overlap",
                 description="The new secret becomes current; the one current until now stays valid for the"
                             " overlap (none with 0) and every earlier secret is gone.",
                 responses={404: {"model": HTTPErrorOut, "description": "No such store"}, **INVALID_VALUE,
                            **INVALID_REQUEST})
    async def rotate(store_id: str, body: RotateIn, stores: StoresDep, service: ServiceDep) -> StoreOut:
        overlap = body.overlap_seconds if body.overlap_seconds is not None else service.settings.secret_overlap_s
        store = await stores.rotate_secret(store_id, body.new_secret, overlap)
        if store is None:
            raise HTTPException(404, "no such store")
        return StoreOut.of(store, await _secret_set(stores, store, body.new_secret, "rotate"))

    @router.get("/deliveries", summary="Look deliveries up by delivery id or order id",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def deliveries(log: DeliveryLogDep, delivery_id: str | None = None, store_id: str | None = None,
                         order_id: Annotated[int | None, Query(ge=1)] = None,
                         limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[DeliveryOut]:
        if delivery_id is None and order_id is None:
            raise HTTPException(400, "give delivery_id or order_id")
        if order_id is not None and store_id is None:
            raise HTTPException(400, "order_id needs store_id")
        if delivery_id is not None:
            found = await log.by_delivery_id(delivery_id, limit)
        else:
            found = await log.of_order(store_id, order_id, limit)
        return [DeliveryOut.of(d) for d in found]

    @router.get("/stores/{store_id}/orders/{order_id}/events", summary="Events an order produced",
                responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def order_events(store_id: str, order_id: int, outbox: OrderOutboxDep) -> list[OrderEventOut]:
        return [OrderEventOut.of(e) for e in await outbox.events(store_id, order_id)]

    @router.post("/stores/{store_id}/orders/{order_id}/replay",
                 summary="Publish an order's events again (consumers drop what they already applied)",
                 responses={**INVALID_VALUE, **INVALID_REQUEST})
    async def replay(store_id: str, order_id: int, outbox: OrderOutboxDep) -> ReplayOut:
        return ReplayOut(requeued=await outbox.replay(store_id, order_id))

    @router.get("/outbox", summary="Outbox depth and the age of its oldest unpublished row")
    async def outbox_stats(outbox: OrderOutboxDep) -> OutboxStatsOut:
        return OutboxStatsOut(**await outbox.stats())

    @router.get("/outbox/parked", summary="Outbox rows the relay parked, oldest first",
                description="Rows Kafka refused for good (too large, a record the broker rejects), and the"
                            " later rows of the same key and subject held behind them. `discarded=true` lists"
                            " the discarded ones instead.", responses=INVALID_REQUEST)
    async def outbox_parked(outbox: OrderOutboxDep, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                            discarded: bool = False) -> list[ParkedOut]:
        return [ParkedOut.of(p) for p in await outbox.parked(limit, discarded)]

    @router.post("/outbox/parked/{seq}/replay", summary="Publish a parked row again, then the rows held behind it",
                 description="Once the cause is fixed (e.g. the topic's max.message.bytes raised). If Kafka"
                             " refuses it again it is parked again.", responses=_PARKED_ERRORS)
    async def replay_parked(seq: SeqPath, outbox: OrderOutboxDep, service: ServiceDep) -> ReleasedOut:
        try:
            released = await outbox.replay_parked(seq)
        except NotParked:
            raise HTTPException(404, f"no parked outbox row {seq}") from None
        except HeldBehind as exc:
            raise HTTPException(409, str(exc)) from None
        service.runtime.outbox_written.set()  # this process's relay publishes them now
        return ReleasedOut(seq=released.seq, released=released.released)

    @router.delete("/outbox/parked/{seq}", summary="Never publish a parked row; the rows held behind it go on",
                   responses=_PARKED_ERRORS)
    async def discard_parked(seq: SeqPath, outbox: OrderOutboxDep, service: ServiceDep) -> ReleasedOut:
        try:
            released = await outbox.discard_parked(seq)
        except NotParked:
            raise HTTPException(404, f"no parked outbox row {seq}") from None
        except HeldBehind as exc:
            raise HTTPException(409, str(exc)) from None
        service.runtime.outbox_written.set()
        return ReleasedOut(seq=released.seq, released=released.released)

    return router
