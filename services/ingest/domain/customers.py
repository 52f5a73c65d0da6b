"""Customers: a WooCommerce customer payload + the last snapshot → customers.v1 events.

- customer.created → customer.registered, then customer.linked from each email key the customer
  may have shopped under as a guest (account and billing email) to the id key, so every service
  can merge the guest history into the account.
- customer.updated → customer.updated only when something the event carries changed; a new
  email also gets its customer.linked.
- customer.deleted ({"id"} only) → customer.erased, and an Erasure: in the same write, ingest
  removes that customer's personal data from its own database (adapters/erasure.py).
WooCommerce fires customer.created/updated for every WordPress role (shop managers, authors …):
those still produce events, with `role`, and consumers filter (customer.deleted fires only for
role "customer", so an erasure of another role never arrives).

customer.created and customer.updated are separate webhooks with no ordering between them, and
both are built at delivery time: updated may arrive first with the very same state. The snapshot
therefore remembers whether customer.registered went out, and a created delivery that is a
duplicate of a known state still announces the registration once.

Keys: customers.v1 is keyed by the customer key "<store>:c<id>" (customer.linked too: it belongs
to the account's history). Ids: registered (date_created_gmt), updated (date_modified_gmt + hash
of the carried data), linked (the from_key), erased (once per customer id).
"""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from services.ingest.domain.consent_meta import consent_meta
from services.ingest.domain.derivation import (APPLIED, DUPLICATE, Derivation, Erasure, StoreContext,
                                               build_event, not_a_resource, nothing, resource_id)
from services.ingest.domain.freshness import advance, carried_hash, content_hash, stale_or_duplicate
from services.ingest.domain.text import text_or_none
from services.ingest.domain.times import parse_gmt, stamp
from shared.events.customers import CustomerErased, CustomerEvent, CustomerLinked
from shared.events.envelope import Outgoing, utcnow
from shared.ids import customer_key, normalize_email
from shared.events.registry import CUSTOMERS

CUSTOMER_TOPICS = frozenset({"customer.created", "customer.updated", "customer.deleted"})
SNAPSHOT_VERSION = 1




def _event(store: StoreContext, *, customer_id: int, key: str, event_type: str, moment: str | None,
           time: datetime, data: BaseModel, discriminator: object = None) -> Outgoing:
    return build_event(store, topic=CUSTOMERS.name, key=key, resource="customer", rid=customer_id,
                       moment=moment, event_type=event_type, discriminator=discriminator,
                       subject=f"customer/{key}", time=time, data=data)


def _customer_data(store: StoreContext, payload: dict, customer_id: int, key: str) -> CustomerEvent:
    billing = payload.get("billing") or {}
    locale = next((text_or_none(m.get("value")) for m in payload.get("meta_data") or []
                   if isinstance(m, dict) and m.get("key") == "locale" and text_or_none(m.get("value"))), None)
    return CustomerEvent(
        store_id=store.store_id, customer_id=customer_id, key=key,
        email=text_or_none(payload.get("email")) or text_or_none(billing.get("email")),
        first_name=text_or_none(payload.get("first_name")) or text_or_none(billing.get("first_name")),
        last_name=text_or_none(payload.get("last_name")) or text_or_none(billing.get("last_name")),
        role=text_or_none(payload.get("role")), locale=locale or store.locale,
        is_paying_customer=bool(payload.get("is_paying_customer")),
        billing_country=text_or_none(billing.get("country")),
        date_created=parse_gmt(payload.get("date_created_gmt"), "date_created_gmt"),
        consent_meta=consent_meta(payload.get("meta_data")))


def _guest_keys(store: StoreContext, payload: dict) -> list[str]:
    """Email keys this customer's guest orders would have been keyed by."""
    emails = [normalize_email(payload.get("email")), normalize_email((payload.get("billing") or {}).get("email"))]
    return [customer_key(store.store_id, 0, e) for e in dict.fromkeys(e for e in emails if e)]


def _erased(store: StoreContext, prev: dict, customer_id: int, key: str, now: datetime) -> Derivation:
    if prev.get("deleted"):
        return nothing(DUPLICATE)
    event = _event(store, customer_id=customer_id, key=key, event_type="customer.erased", moment=None, time=now,
                   data=CustomerErased(store_id=store.store_id, customer_id=customer_id, key=key))
    # Forget the email keys too: erased means nothing personal stays, even hashed. Before that, they
    # name the guest orders whose data goes with the account's (Erasure).
    snapshot = {"v": SNAPSHOT_VERSION, "modified": None, "hashes": [], "carry": None, "registered": False,
                **prev, "key": key, "linked": [], "deleted": True}
    erase = Erasure(store_id=store.store_id, customer_id=customer_id,
                    keys=tuple(dict.fromkeys([key, *(prev.get("linked") or [])])))
    return Derivation(events=[event], snapshot=snapshot, outcome=APPLIED, erase=erase)


def derive_customer_events(store: StoreContext, previous: dict | None, payload: dict, topic: str, *,
                           now: datetime | None = None) -> Derivation:
    """Events for one customer delivery, and the snapshot to store (see the module docstring).
    `now` is the time of customer.erased (the {"id"} body has no date); defaults to the clock."""
    if (refused := not_a_resource(payload, topic, CUSTOMER_TOPICS, "customer")) is not None:
        return refused
    now = now or utcnow()
    prev = previous or {}
    customer_id = resource_id(payload)
    key = customer_key(store.store_id, customer_id, None)
    if topic == "customer.deleted":
        return _erased(store, prev, customer_id, key, now)
    modified_at = parse_gmt(payload.get("date_modified_gmt"), "date_modified_gmt")
    modified, digest = stamp(modified_at), content_hash(payload)
    registers = topic == "customer.created" and not prev.get("registered")
    # A created delivery repeating a known state still announces the registration (once).
    if (old := stale_or_duplicate(previous, modified, digest)) is not None and not (
            registers and old.outcome == DUPLICATE):
        return old
    data = _customer_data(store, payload, customer_id, key)
    carry = carried_hash(data)
    at = modified_at or now
    events: list[Outgoing] = []
    if registers:
        created = data.date_created
        events.append(_event(store, customer_id=customer_id, key=key, event_type="customer.registered",
                             moment=stamp(created) or modified, time=created or at, data=data))
    elif carry != prev.get("carry") or prev.get("deleted"):
        events.append(_event(store, customer_id=customer_id, key=key, event_type="customer.updated",
                             moment=modified, discriminator=carry[:16], time=at, data=data))
    linked = list(prev.get("linked") or [])
    for from_key in _guest_keys(store, payload):
        if from_key not in linked:
            linked.append(from_key)
            events.append(_event(store, customer_id=customer_id, key=key, event_type="customer.linked",
                                 moment=None, discriminator=from_key, time=events[0].envelope.time if events else at,
                                 data=CustomerLinked(store_id=store.store_id, from_key=from_key, to_key=key)))
    snapshot = {"v": SNAPSHOT_VERSION, **advance(previous, modified, digest), "carry": carry, "key": key,
                "registered": bool(prev.get("registered")) or registers, "linked": linked, "deleted": False}
    return Derivation(events=events, snapshot=snapshot, outcome=APPLIED)
