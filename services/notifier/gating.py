"""Gating, the send-time decision for each claimed message (sending.py calls `decide` in the
claiming transaction): Send, Defer(until, reason), Suppress(reason) or Cancel(reason).

In this order:
  0. a product flow's products (recommendations.py): none still buyable → Cancel; some dropped →
     the message re-rendered without them;
  1. the order moved on (flows.still_fits against its latest known status) → Cancel;
  2. the address: not a valid one → Suppress("invalid_address"), and the address joins the
     suppression list; on the list → Suppress(reason) ("unsubscribed" stops only marketing);
  3. transactional messages stop checking here: never held by consent, quiet hours or budgets;
  4. marketing without consent → Suppress("no_consent") (consent is never waited for); a store whose
     budget is 0 sends no marketing → Suppress("marketing_off");
  5. quiet hours in the customer's zone → Defer(until they end, "quiet_hours");
  6. the 7-day contact budget → Defer(until a slot frees, "budget") — deferred rather than
     dropped, see domain/budget.py;
  then Send — a marketing message with its signed one-click unsubscribe link in the footer and
  the RFC 8058 headers, and, when the store has a digest window, the customer's other messages due
  within it combined into this one email (domain/digest.py; each part passed 1–6 itself).

    decide = Gate(links, lease_s=settings.send_lease_s).decide
    decision = await decide(message, tx, now)
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from services.notifier.domain.budget import WINDOW, budget_until
from services.notifier.domain.consent import INVALID_ADDRESS, address_hash, blocks, valid_address
from services.notifier.domain.delivery import SEND, Cancel, Decision, Defer, Send, StoredMessage, Suppress
from services.notifier.domain.digest import Part, build_digest
from services.notifier.domain.flows import still_fits
from services.notifier.domain.links import LinkSigner, UnsubscribeTarget, one_click_headers, with_footer
from services.notifier.domain.quiet_hours import customer_zone, quiet_until
from services.notifier.domain.store_settings import StoreSettings
from services.notifier.metrics import notifier_metrics
from services.notifier.recommendations import RECHECKED, recheck_products

NO_CONSENT, QUIET_HOURS, BUDGET, MARKETING_OFF = "no_consent", "quiet_hours", "budget", "marketing_off"
BUDGET_BUSY, BUSY_RETRY = "budget_busy", timedelta(seconds=2)
# Each claiming transaction reads a store's settings once, however many of its messages it decides
# (a round decides up to send_batch messages; the unit of work is its key, gone with it).
_STORES: WeakKeyDictionary[Any, dict[str, StoreSettings]] = WeakKeyDictionary()


async def store_settings(tx: Any, store_id: str) -> StoreSettings:
    memo = _STORES.setdefault(tx, {})
    if store_id not in memo:
        memo[store_id] = await tx.settings.store(store_id)
    return memo[store_id]


class Gate:
    def __init__(self, links: LinkSigner, *, lease_s: float = 60.0) -> None:
        self.links, self.lease_s = links, lease_s

    async def decide(self, message: StoredMessage, tx: Any, now: datetime) -> Decision:
        claimed = message
        if message.flow in RECHECKED:  # products named at record time: still buyable? (recommendations.py)
            rechecked = await recheck_products(message, tx, await store_settings(tx, message.store_id))
            if isinstance(rechecked, Cancel):
                return rechecked
            message = rechecked
        decision = await check(message, tx, now)
        if not isinstance(decision, Send):
            return decision
        store = await store_settings(tx, message.store_id)
        out, parts = message, [message]
        if store.digest_window_s and message.channel == "email":
            for candidate in await tx.digests.candidates(message, now + timedelta(seconds=store.digest_window_s)):
                if candidate.flow in RECHECKED:  # its products are checked when it leads its own email
                    continue
                if isinstance(await check(candidate, tx, now), Send):
                    parts.append(candidate)
            if len(parts) > 1:
                ids = [p.message_id for p in parts[1:]]
                await tx.digests.take(message.message_id, ids, now + timedelta(seconds=self.lease_s))
                digest = build_digest([Part(p.message_id, p.subject, p.body_text, p.body_html) for p in parts],
                                      message.locale)
                out = replace(message, subject=digest.subject, body_text=digest.text, body_html=digest.html,
                              digest_parts=tuple(ids))
        if any(p.marketing for p in parts):
            url = self.links.unsubscribe_url(UnsubscribeTarget(
                message.store_id, message.customer_key, address_hash(message.to_address)))
            text, html = with_footer(out.body_text, out.body_html, url, message.locale)
            out = replace(out, body_text=text, body_html=html, headers=one_click_headers(url))
        return SEND if out is claimed else Send(message=out)


async def check(message: StoredMessage, tx: Any, now: datetime) -> Decision:
    """Steps 1–6 for one message (a lead or a digest part); a marketing Send takes its budget slot."""
    if message.order_id is not None and message.order_statuses:
        if (why := still_fits(message, await tx.orders.status(message.store_id, message.order_id))) is not None:
            return Cancel(why)
    store_id, address = message.store_id, message.to_address
    if message.channel == "email" and not valid_address(address):
        if await tx.suppressions.add(store_id, address_hash(address or ""), INVALID_ADDRESS):
            notifier_metrics().suppressions_added.labels(INVALID_ADDRESS).inc()
        return Suppress(INVALID_ADDRESS)
    if address and (reason := blocks(await tx.suppressions.reasons(store_id, address_hash(address)),
                                     marketing=message.marketing)) is not None:
        return Suppress(reason)
    if not message.marketing:
        return SEND
    key = await tx.customers.resolve(message.customer_key)
    consent = await tx.consent.get(key)
    if consent is None or not consent.consents:
        return Suppress(NO_CONSENT)
    store = await store_settings(tx, store_id)
    if store.marketing_per_7_days == 0:  # the store sends no marketing at all: waiting would never end
        return Suppress(MARKETING_OFF)
    customer = await tx.customers.get(key)
    tz = customer_zone(consent.timezone or (customer.timezone if customer else None),
                       customer.country if customer else None, store.timezone)
    if (until := quiet_until(now, tz, store.quiet_hours_start, store.quiet_hours_end)) is not None:
        return Defer(until, QUIET_HOURS)
    if not await tx.consent.lock_customer(key):  # another sender is deciding this customer's budget now
        return Defer(now + BUSY_RETRY, BUDGET_BUSY)
    contacts = await tx.consent.contacts(key, now - WINDOW, excluding=message.message_id)
    if (until := budget_until(contacts, store.marketing_per_7_days, now)) is not None:
        return Defer(until, BUDGET)
    await tx.consent.add_contact(message.message_id, key, now)
    return SEND
