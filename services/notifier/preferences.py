"""Preferences, the consent use cases: what the store's consent plugin reported (order and customer
meta), what the customer said (the unsubscribe link, the preferences page) or the store's staff
recorded (the API), applied to the consent record and the suppression list in one transaction.

    await note_meta_consent(tx, store_id="s1", customer_key="s1:c1", meta=order.consent_meta, at=event.time)
    await unsubscribe(tx, links.verify(token), at=now)
    await set_marketing(tx, store_id="s1", customer_key="s1:c1", marketing=True, source=API, at=now)

Keys are resolved through the customer record first (a guest's key after customer.linked lands on
the registered customer), so consent follows the merge.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from services.notifier.domain.consent import (ERASED, META, UNSUBSCRIBE_LINK, UNSUBSCRIBED, ConsentRecord,
                                              address_hash, apply_statement, meta_consent)
from services.notifier.domain.links import UnsubscribeTarget
from services.notifier.metrics import notifier_metrics
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Preferences:
    customer_key: str
    marketing: bool | None  # None: never stated (so: no marketing)
    source: str | None
    changed_at: datetime | None
    timezone: str | None
    unsubscribed: bool  # the address is on the suppression list as unsubscribed


async def _store(tx: Any, key: str, store_id: str, record: ConsentRecord) -> None:
    await tx.consent.put(key, store_id, record)
    await tx.customers.set_consent(store_id=store_id, key=key, consent=record.marketing)  # the record shows it


async def note_meta_consent(tx: Any, *, store_id: str, customer_key: str, meta: dict[str, str] | None,
                            at: datetime) -> bool:
    """An order's or customer's consent meta, read under the store's `consent_meta_key`; True if
    it changed the record."""
    if not meta:  # most orders: no consent plugin said anything (no query spent on them)
        return False
    said = meta_consent(meta, (await tx.settings.store(store_id)).consent_meta_key)
    if said is None:
        return False
    key = await tx.customers.resolve(customer_key)
    record = apply_statement(await tx.consent.get(key), said, META, at)
    if record is None:
        return False
    await _store(tx, key, store_id, record)
    return True


async def merge_consent(tx: Any, *, store_id: str, from_key: str, to_key: str) -> None:
    """customer.linked: the guest's consent joins the registered customer's (the newer statement
    wins, as always); the guest's own record goes."""
    guest = await tx.consent.get(from_key)
    if guest is None or from_key == to_key:
        return
    survivor = await tx.consent.get(to_key) or ConsentRecord()
    merged = survivor
    if guest.marketing is not None and guest.source is not None and guest.changed_at is not None:
        merged = apply_statement(survivor, guest.marketing, guest.source, guest.changed_at) or survivor
    if merged.timezone is None and guest.timezone is not None:
        merged = replace(merged, timezone=guest.timezone)
    if merged != survivor:
        await tx.consent.put(to_key, store_id, merged)
    await tx.consent.forget(from_key)


async def unsubscribe(tx: Any, target: UnsubscribeTarget, at: datetime) -> None:
    """The link's one click: the address stops getting marketing, the consent says no. Repeating
    it changes nothing (mail providers POST more than once)."""
    key = await tx.customers.resolve(target.customer_key)
    if await tx.suppressions.add(target.store_id, target.address_hash, UNSUBSCRIBED, "one-click link"):
        notifier_metrics().suppressions_added.labels(UNSUBSCRIBED).inc()
    record = apply_statement(await tx.consent.get(key), False, UNSUBSCRIBE_LINK, at)
    if record is not None:
        await _store(tx, key, target.store_id, record)
    log.info("unsubscribed", store_id=target.store_id)


async def set_marketing(tx: Any, *, store_id: str, customer_key: str, marketing: bool, source: str,
                        at: datetime, address_hashes: list[str] | None = None,
                        timezone: str | None = None) -> Preferences:
    """The customer's (preferences page) or the store's (API) explicit answer. A yes lifts an
    unsubscribe of the customer's address(es): `address_hashes`, else the one on their record."""
    key = await tx.customers.resolve(customer_key)
    current = await tx.consent.get(key) or ConsentRecord()
    record = apply_statement(current, marketing, source, at) or current
    if timezone is not None:
        record = replace(record, timezone=timezone or None)
    if record != current:
        await _store(tx, key, store_id, record)
    hashes = address_hashes if address_hashes is not None else await _hashes_of(tx, key)
    for digest in hashes:
        if marketing:
            await tx.suppressions.remove(store_id, digest, UNSUBSCRIBED)
        else:
            await tx.suppressions.add(store_id, digest, UNSUBSCRIBED, source)
    return await preferences(tx, store_id, key, hashes)


async def _hashes_of(tx: Any, key: str) -> list[str]:
    customer = await tx.customers.get(key)
    return [address_hash(customer.email)] if customer is not None and customer.email else []


async def preferences(tx: Any, store_id: str, customer_key: str, address_hashes: list[str] | None = None
                      ) -> Preferences:
    key = await tx.customers.resolve(customer_key)
    record = await tx.consent.get(key) or ConsentRecord()
    hashes = address_hashes if address_hashes is not None else await _hashes_of(tx, key)
    unsubscribed = False
    for digest in hashes:
        unsubscribed = unsubscribed or UNSUBSCRIBED in await tx.suppressions.reasons(store_id, digest)
    return Preferences(customer_key=key, marketing=record.marketing, source=record.source,
                       changed_at=record.changed_at, timezone=record.timezone, unsubscribed=unsubscribed)


async def erased_address(tx: Any, store_id: str, address: str | None) -> bool:
    """Whether `address` belongs to a customer who was erased (recording skips it: a later event
    must not bring the address back into the database)."""
    if not address:
        return False
    return ERASED in await tx.suppressions.reasons(store_id, address_hash(address))
