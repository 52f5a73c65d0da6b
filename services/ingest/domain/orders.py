"""Orders: a WooCommerce order payload (current state) + the last snapshot → lifecycle events.

WooCommerce sends states, not transitions, and may coalesce several saves into one delivery, so
the events are the *difference* between the snapshot and the payload, in the order things happen
in a store: order.restored, order.placed, order.paid, order.status_changed, order.on_hold,
order.shipped (one per new tracking number), order.completed / .cancelled / .failed,
order.refunded (one per new refund id, oldest first). A first sight has no status to change
from: it yields order.placed and whatever the current state implies.

Keys: orders.v1 is keyed by the customer (shared.ids.customer_key: "<store>:c<id>", guests
"<store>:e<sha256(normalized billing email)>") so one customer's history stays ordered in one
partition. A guest order without any email is keyed "<store>:o<order_id>" rather than sharing the
hash of "" with every other email-less guest. order.deleted carries only {"id"}: it uses the key
remembered in the snapshot, or "<store>:o<order_id>" for an order never seen.

Event ids: event_id(store, "order", order_id, moment, type, discriminator). A fact with its own
identity keeps its id whichever payload reveals it — a redelivery, a reconcile after a lost
snapshot, a later coalesced state — so consumers drop the repeat:
  order.placed: date_created_gmt | order.paid: date_paid_gmt | order.completed: date_completed_gmt
  order.refunded: the refund id | order.shipped: the tracking number (no moment for these two)
(falling back to date_modified_gmt when the fact's own date is missing). Facts seen only as a
difference between two states (order.status_changed, .on_hold, .cancelled, .failed, .restored)
use date_modified_gmt and the payload's content hash (status_changed also "<from>><to>"): the
same payload derived twice gives the same ids, two states saved in the same second don't collide.
order.deleted uses the last known date_modified_gmt and content hash (its body has neither).

Trash: order.deleted ({"id"}) or a payload with status "trash" → order.deleted once. The order
comes back with order.restored, or with any payload strictly newer than the last state known
before the trash; a payload from that same second is a late pre-trash state, not a restore.

Refund lines held (`hold_refunds`: a webhook of a store ingest can ask): a new refund whose lines
aren't known (the order payload has none) makes the Derivation `held` and the snapshot remember
it: that event, and every later one of the order, wait in held_events for refund_details.py to
fetch the lines and publish them in order; the snapshot's "held" goes when it has.

Gone for good (`permanent`: reconcile found a known order 404 in the REST API, no webhook tells):
order.deleted once with `permanent: true` — also after a trash, which it makes final — and the
snapshot says "gone", so nothing about the order is derived again.
"""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from services.ingest.domain.derivation import (APPLIED, DUPLICATE, PARKED, STALE, Derivation, StoreContext,
                                               build_event, not_a_resource, nothing, resource_id)
from services.ingest.domain.money import fmt
from services.ingest.domain.order_payload import OrderView, guest_fallback_key, read_order
from services.ingest.domain.refunds import refund_data, refund_time
from services.ingest.domain.freshness import advance, content_hash, stale_or_duplicate
from services.ingest.domain.times import stamp
from shared.events.envelope import Outgoing, utcnow
from shared.events.orders import CustomerRef, OrderDeleted, Tracking
from shared.events.registry import ORDERS

__all__ = ["Derivation", "StoreContext", "derive_order_events"]

ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.deleted", "order.restored"})
# Not orders yet: Block checkout drafts reach order.updated (woocommerce#66995); WooCommerce itself
# ignores draft/auto-draft. Nothing is stored, so the real order is a first sight later.
PARKED_STATUSES = frozenset({"checkout-draft", "auto-draft", "draft"})
TRASH = "trash"
# Statuses with an event of their own when an order enters them. Others (pending, processing,
# refunded, plugin statuses) get order.status_changed only: processing is announced by
# order.paid, refunded by one order.refunded per refund.
STATUS_EVENTS = {"on-hold": "order.on_hold", "completed": "order.completed",
                 "cancelled": "order.cancelled", "failed": "order.failed"}
SNAPSHOT_VERSION = 1


def _event(store: StoreContext, *, key: str, order_id: int, event_type: str, moment: str | None,
           time: datetime, data: BaseModel | dict, discriminator: object = None) -> Outgoing:
    return build_event(store, topic=ORDERS.name, key=key, resource="order", rid=order_id, moment=moment,
                       event_type=event_type, discriminator=discriminator, subject=f"order/{order_id}",
                       time=time, data=data)


class _Plan:
    """The events one fresh payload implies, given the snapshot before it."""

    def __init__(self, store: StoreContext, previous: dict, view: OrderView, digest: str, topic: str,
                 refund_details: dict[int, dict], now: datetime) -> None:
        self.store, self.prev, self.view, self.topic = store, previous, view, topic
        self.tag = digest[:16]  # names this payload in the ids of difference-only facts
        self.details = refund_details
        self.at = view.modified_at or now  # when the store saved this state
        self.prev_status: str | None = previous.get("status")
        self.seen = self.prev_status is not None
        self.entered = not self.seen or self.prev_status != view.status  # the order entered its status
        self._common: dict | None = None

    def _emit(self, event_type: str, *, moment: str | None, time: datetime | None, discriminator: object = None,
              **extra: dict | str | None) -> Outgoing:
        """One event: what every order event carries (OrderEvent's JSON, built once per payload),
        plus the `extra` fields of its own model (OrderStatusChanged, OrderShipped, OrderRefunded)."""
        if self._common is None:
            self._common = dict(self.view.fields, previous_status=self.prev_status)
        data = {**self._common, **extra} if extra else dict(self._common)
        return _event(self.store, key=self.view.customer_key, order_id=self.view.order_id, event_type=event_type,
                      moment=moment, time=time or self.at, data=data, discriminator=discriminator)

    def events(self) -> list[Outgoing]:
        v, prev, modified = self.view, self.prev, self.view.modified
        out: list[Outgoing] = []
        if self.seen and (prev.get("deleted") or self.topic == "order.restored"):
            # Where it came back from is the trash (WooCommerce restores only from there); the
            # status it returned to is the event's `status`.
            out.append(self._emit("order.restored", moment=modified, discriminator=self.tag, time=self.at,
                                  previous_status="trash"))
        if not self.seen:
            out.append(self._emit("order.placed", moment=stamp(v.created_at) or modified, time=v.created_at))
        if v.is_paid and not prev.get("paid"):
            out.append(self._emit("order.paid", moment=stamp(v.paid_at) or modified, time=v.paid_at))
        if self.seen and self.entered:
            out.append(self._emit("order.status_changed", moment=modified, time=self.at,
                                  discriminator=f"{self.prev_status}>{v.status}:{self.tag}",
                                  **{"from": self.prev_status, "to": v.status}))
        if self.entered and v.status == "on-hold":
            out.append(self._emit("order.on_hold", moment=modified, discriminator=self.tag, time=self.at))
        known = set(prev.get("tracking") or [])
        for s in v.shipments:
            if s.ident not in known:
                tracking = Tracking(carrier=s.carrier, number=s.number, url=s.url, shipped_at=s.shipped_at,
                                    line_ids=list(s.line_ids) if s.line_ids else None)
                out.append(self._emit("order.shipped", moment=None, discriminator=s.ident, time=self.at,
                                      tracking=tracking.model_dump(mode="json")))
        if self.entered and v.status == "completed":
            out.append(self._emit("order.completed", moment=stamp(v.completed_at) or modified, time=v.completed_at))
        elif self.entered and v.status in STATUS_EVENTS and v.status != "on-hold":
            out.append(self._emit(STATUS_EVENTS[v.status], moment=modified, discriminator=self.tag, time=self.at))
        known_refunds = prev.get("refunds") or {}
        for entry in v.refunds:
            if str(entry.refund_id) not in known_refunds:
                details = self.details.get(entry.refund_id)
                out.append(self._emit("order.refunded", moment=None, discriminator=entry.refund_id,
                                      time=refund_time(details, self.at),
                                      refund=refund_data(v, entry, details).model_dump(mode="json")))
        return out


def _snapshot(previous: dict, view: OrderView, digest: str) -> dict:
    """The state later deliveries are diffed against. Ids and amounts only: no personal data."""
    tracking = list(previous.get("tracking") or [])
    tracking += [s.ident for s in view.shipments if s.ident not in tracking]
    return {
        "v": SNAPSHOT_VERSION, **advance(previous, view.modified, digest),
        "status": view.status, "number": view.fields["order_number"], "key": view.customer_key,
        "paid": bool(previous.get("paid")) or view.is_paid, "deleted": False,
        "refunds": {**(previous.get("refunds") or {}),
                    **{str(r.refund_id): fmt(r.amount, view.dp) for r in view.refunds}},
        "tracking": tracking,
    }


def _pre_trash(previous: dict | None, view: OrderView, topic: str) -> bool:
    """A trashed order's payload from the very second of its last known state: WooCommerce sent it
    before the trash (only order.restored or a strictly newer state brings the order back)."""
    return bool(previous and previous.get("deleted") and topic != "order.restored"
                and view.modified is not None and view.modified == previous.get("modified"))


def _gone(store: StoreContext, previous: dict, order_id: int, now: datetime) -> Derivation:
    """Deleted for good: order.deleted with permanent=True, once."""
    if not previous or previous.get("gone"):  # never known (nothing to announce), or told already
        return nothing(DUPLICATE)
    nxt = {**previous, "deleted": True, "gone": True}
    data = OrderDeleted(store_id=store.store_id, order_id=order_id, order_number=previous.get("number"),
                        previous_status=TRASH if previous.get("deleted") else previous.get("status"),
                        customer=CustomerRef(key=previous.get("key") or guest_fallback_key(store.store_id, order_id)),
                        permanent=True)
    # One permanent deletion per order: its id needs no moment.
    event = _event(store, key=data.customer.key, order_id=order_id, event_type="order.deleted", moment=None,
                   discriminator="permanent", time=now, data=data)
    return Derivation(events=[event], snapshot=nxt, outcome=APPLIED)


def _trashed(store: StoreContext, previous: dict, payload: dict, now: datetime) -> Derivation:
    """order.deleted ({"id"} only: moved to the trash), or a full payload whose status is trash."""
    order_id = resource_id(payload)
    full = "status" in payload
    view = read_order(store, payload) if full else None
    nxt = {"v": SNAPSHOT_VERSION, "modified": None, "hashes": [], "status": None, "number": None,
           "key": guest_fallback_key(store.store_id, order_id), "paid": False, "refunds": {}, "tracking": [],
           **previous, "deleted": True}
    if view is not None:
        digest = content_hash(payload)
        if (old := stale_or_duplicate(previous or None, view.modified, digest)) is not None:
            return old
        nxt.update(advance(previous or None, view.modified, digest), key=view.customer_key)
    if previous.get("deleted"):
        return Derivation(events=[], snapshot=nxt if full else None, outcome=APPLIED if full else DUPLICATE)
    data = OrderDeleted(store_id=store.store_id, order_id=order_id,
                        order_number=view.fields["order_number"] if view else previous.get("number"),
                        previous_status=previous.get("status"), customer=CustomerRef(key=nxt["key"]))
    # A trashed order's {"id"} body has no date: the moment is the last state we knew (so a second
    # trash after a restore is a new fact), the time is when we learnt it.
    last_hash = (nxt["hashes"] or [None])[-1]
    time = (view.modified_at if view else None) or now
    event = _event(store, key=nxt["key"], order_id=order_id, event_type="order.deleted", moment=nxt["modified"],
                   discriminator=last_hash[:16] if last_hash else None, time=time, data=data)
    return Derivation(events=[event], snapshot=nxt, outcome=APPLIED)


def derive_order_events(store: StoreContext, previous: dict | None, payload: dict, topic: str,
                        refund_details: dict[int, dict] | None = None, *, now: datetime | None = None,
                        permanent: bool = False, hold_refunds: bool = False) -> Derivation:
    """Events for one order delivery (webhook or reconcile), and the snapshot to store.

    `previous` is the snapshot this function returned last time for this order (None at first
    sight). `refund_details` maps refund id → refund resource (GET /orders/<id>/refunds/<rid>)
    for refunds the caller fetched; without it a refund's line_items are null. `now` is when the
    delivery was received: the time of events whose moment the store doesn't tell (order.deleted);
    it defaults to the clock. `permanent` (with order.deleted): the order is gone from the store
    for good. `hold_refunds`: a new refund without its lines holds the order's events (module
    docstring). Raises ValueError/KeyError/TypeError on a malformed payload.
    """
    result = _derive(store, previous, payload, topic, refund_details, now=now, permanent=permanent)
    held = bool((previous or {}).get("held")) or (hold_refunds and any(
        e.envelope.type == "order.refunded" and e.envelope.data["refund"]["line_items"] is None
        for e in result.events))
    if not held:
        return result
    # Held until refund_details.py releases the order (it alone drops the mark), events or not.
    snapshot = None if result.snapshot is None else {**result.snapshot, "held": True}
    return Derivation(events=result.events, snapshot=snapshot, outcome=result.outcome, held=bool(result.events))


def _derive(store: StoreContext, previous: dict | None, payload: dict, topic: str,
            refund_details: dict[int, dict] | None, *, now: datetime | None, permanent: bool) -> Derivation:
    if (refused := not_a_resource(payload, topic, ORDER_TOPICS, "order")) is not None:
        return refused
    now = now or utcnow()
    if permanent and topic == "order.deleted":
        return _gone(store, previous or {}, resource_id(payload), now)
    if (previous or {}).get("gone"):  # deleted for good: whatever still arrives about it is history
        return nothing(STALE)
    if topic == "order.deleted" or payload.get("status") == TRASH:
        return _trashed(store, previous or {}, payload, now)
    if payload.get("status") in PARKED_STATUSES:
        return nothing(PARKED)
    view = read_order(store, payload)
    digest = content_hash(payload)
    if (old := stale_or_duplicate(previous, view.modified, digest)) is not None:
        return old
    if _pre_trash(previous, view, topic):
        return nothing(STALE)
    # Refund ids as ints, whether the caller's map came from Python or from JSON (string keys).
    details = {int(rid): body for rid, body in (refund_details or {}).items()}
    events = _Plan(store, previous or {}, view, digest, topic, details, now).events()
    return Derivation(events=events, snapshot=_snapshot(previous or {}, view, digest), outcome=APPLIED)

