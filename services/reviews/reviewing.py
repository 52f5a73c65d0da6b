"""Reviewing, the use case behind the customer's review page: open a request from its signed link,
take the stars, take the reviews (with their photos), take a request for help.

Every step runs in one transaction (a unit of work from `transactions()`) that locks the request;
what it announces goes to the outbox in that transaction: review.submitted once per review (its id
derives from the review's, itself one per product of a request, so a second submit of the same form
adds nothing and announces nothing), review.help_requested once per request. Photos are checked and
cleaned (domain/photos.py) before anything is stored, and written only for a review that is new;
if the transaction fails after that, the file is deleted again.

No review gating: a low rating adds the offer of help; it removes nothing, and a review with any
rating is stored, announced (the same incentive) and published the same way.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from services.reviews.domain import review_requests as rr
from services.reviews.domain import reviews as rv
from services.reviews.domain.links import BadLink, ReviewLinks
from services.reviews.domain.moderation import ModerationConfig, initial_status
from services.reviews.domain.products import ProductInfo
from services.reviews.domain.store_settings import moderation_for
from services.reviews.domain.photos import PhotoLimits, PhotoRefused, clean_photo, photo_name
from services.reviews.metrics import reviews_metrics
from shared.events.follow_up import follow_up_event
from shared.logging import get_logger

if TYPE_CHECKING:
    from services.reviews.adapters.unit_of_work import ReviewsUnitOfWork

log = get_logger(__name__)
Transactions = Callable[[], AbstractAsyncContextManager["ReviewsUnitOfWork"]]
# A request whose link leads somewhere: asked (and maybe reminded or answered).
_OPEN = (rr.SENT, rr.REMINDED, rr.ANSWERED)


class PhotoStore(Protocol):
    def save(self, name: str, jpeg: bytes) -> None: ...
    def delete(self, name: str) -> None: ...


class LinkProblem(Exception):
    """The page can't be shown: "invalid" (forged, altered, unknown), "expired", or "gone"
    (cancelled, skipped)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Entry:
    """One product's part of the review form, as parsed."""
    product_id: int
    rating: str | None
    title: str | None
    text: str | None
    photo: bytes | None = None


@dataclass(frozen=True)
class PageState:
    request: rr.ReviewRequestRecord
    ratings: dict[int, int]
    reviews: dict[int, rv.Review]
    help: rv.HelpRequest | None
    products: dict[int, ProductInfo]


async def _open(tx: ReviewsUnitOfWork, links: ReviewLinks, token: str, *, lock: bool) -> rr.ReviewRequestRecord:
    try:
        request_id = links.request_id(token)
    except BadLink as exc:
        raise LinkProblem("expired" if exc.expired else "invalid") from None
    req = await tx.requests.get(request_id, lock=lock)
    if req is None:
        raise LinkProblem("invalid")
    if req.status not in _OPEN:
        raise LinkProblem("gone")
    return req


async def page_state(transactions: Transactions, links: ReviewLinks, token: str) -> PageState:
    async with transactions() as tx:
        req = await _open(tx, links, token, lock=False)
        reviews = {r.product_id: r for r in await tx.reviews.for_request(req.request_id)}
        return PageState(req, await tx.reviews.ratings(req.request_id), reviews,
                         await tx.reviews.help_for(req.request_id),
                         await tx.products.get_many(req.store_id, [i.product_id for i in req.open_items]))


def _product_ids(req: rr.ReviewRequestRecord) -> set[int]:
    return {i.product_id for i in req.open_items}


async def _answered(tx: ReviewsUnitOfWork, req: rr.ReviewRequestRecord, now: datetime) -> None:
    out = rr.answered(req, now)
    if out != req:
        await tx.requests.save(out)


async def rate(transactions: Transactions, links: ReviewLinks, token: str, form: dict[int, str | None],
               now: datetime) -> dict[int, int]:
    """Stars per product: every product of the request needs 1–5, none outside it."""
    async with transactions() as tx:
        req = await _open(tx, links, token, lock=True)
        products = _product_ids(req)
        if set(form) - products:
            raise rv.InvalidInput("not_in_order")
        ratings = {pid: rv.rating(form.get(pid), pid) for pid in sorted(products)}
        await tx.reviews.rate(req.request_id, ratings, now)
        await _answered(tx, req, now)
    return ratings


def _submitted(req: rr.ReviewRequestRecord, review: rv.Review, now: datetime):
    return follow_up_event(service="reviews", cause_id=review.review_id, event_type="review.submitted",
                           key=req.customer_key, time=now, data={
                               "store_id": req.store_id, "customer_key": req.customer_key,
                               "request_id": req.request_id, "product_id": review.product_id,
                               "rating": review.rating, "verified": True, "review_id": review.review_id,
                               "order_id": req.order_id, "has_photo": review.photo is not None,
                               "locale": req.locale})


async def submit(transactions: Transactions, links: ReviewLinks, photos: PhotoStore, token: str,
                 entries: list[Entry], display_name: str | None, now: datetime, *, limits: PhotoLimits,
                 moderation: ModerationConfig) -> list[rv.Review]:
    """Reviews for the products that have words; returns those new (none on a second submit)."""
    name = rv.clean(display_name, rv.MAX_NAME)
    cleaned: list[tuple[Entry, int, str, str, bytes | None]] = []
    for e in entries:
        title, text = rv.clean(e.title, rv.MAX_TITLE), rv.clean(e.text, rv.MAX_TEXT, multiline=True)
        if not text:
            continue  # stars alone for this product
        try:
            jpeg = clean_photo(e.photo, limits) if e.photo else None
        except PhotoRefused as exc:
            raise rv.InvalidInput(exc.code, e.product_id) from None
        cleaned.append((e, rv.rating(e.rating, e.product_id), title, text, jpeg))
    if not cleaned:
        raise rv.InvalidInput("text_required")
    written: list[str] = []
    added: list[rv.Review] = []
    sent_at = None
    try:
        async with transactions() as tx:
            req = await _open(tx, links, token, lock=True)
            sent_at = req.sent_at
            rules = moderation_for(moderation, await tx.store_settings.get(req.store_id))
            products = _product_ids(req)
            if {e.product_id for e in entries} - products:
                raise rv.InvalidInput("not_in_order")
            # The request row is locked: a concurrent submit waits here and then sees these reviews.
            done = {r.product_id for r in await tx.reviews.for_request(req.request_id)}
            for e, stars, title, text, jpeg in cleaned:
                if e.product_id in done:
                    continue  # a second submit of the same form: nothing new, its photo not kept
                review_id = rv.review_id(req.request_id, e.product_id)
                photo = None
                if jpeg is not None:
                    photo = photo_name(review_id, jpeg)
                    photos.save(photo, jpeg)
                    written.append(photo)
                review = rv.Review(
                    review_id=review_id, request_id=req.request_id, store_id=req.store_id, order_id=req.order_id,
                    product_id=e.product_id, customer_key=req.customer_key, rating=stars, title=title, body=text,
                    display_name=name or (req.first_name or ""), reviewer_email=req.email, photo=photo,
                    status=initial_status(rules, stars, f"{title} {text} {name}"), created_at=now,
                    locale=req.locale)
                if await tx.reviews.add(review):
                    await tx.outbox.write([_submitted(req, review, now)])
                    added.append(review)
                    if photo:
                        written.remove(photo)  # kept: its review is stored
            if added:  # the stars the form carried are the product's rating now
                await tx.reviews.rate(req.request_id, {r.product_id: r.rating for r in added}, now)
            await _answered(tx, req, now)
    finally:
        for name_left in written:  # photos of reviews not stored (a repeat, or the transaction failed)
            photos.delete(name_left)
    for r in added:
        reviews_metrics().reviews_submitted.labels(r.store_id).inc()
        reviews_metrics().ratings.labels(r.store_id).observe(r.rating)
        if sent_at is not None:
            reviews_metrics().time_to_review.labels(r.store_id).observe((now - sent_at).total_seconds())
        log.info("review_submitted", review_id=r.review_id, request_id=r.request_id, rating=r.rating,
                 photo=r.photo is not None)
    return added


async def rate_satisfaction(transactions: Transactions, links: ReviewLinks, token: str, score: str | None,
                            now: datetime) -> int:
    """The optional one-question score (CSAT 1–5), asked after the review whatever its rating."""
    value = rv.rating(score)
    async with transactions() as tx:
        req = await _open(tx, links, token, lock=True)
        await tx.reviews.set_csat(req.request_id, req.store_id, value, now)
        await _answered(tx, req, now)
    return value


async def ask_help(transactions: Transactions, links: ReviewLinks, token: str, message: str | None,
                   now: datetime) -> bool:
    """review.help_requested once per request; False when it was already asked."""
    text = rv.clean(message, rv.MAX_HELP, multiline=True)
    if not text:
        raise rv.InvalidInput("help_required")
    async with transactions() as tx:
        req = await _open(tx, links, token, lock=True)
        ratings = await tx.reviews.ratings(req.request_id)
        lowest = min(ratings.values()) if ratings else None
        h = rv.HelpRequest(help_id=rv.help_id(req.request_id), request_id=req.request_id, store_id=req.store_id,
                           order_id=req.order_id, customer_key=req.customer_key, rating=lowest, message=text,
                           created_at=now)
        added = await tx.reviews.add_help(h)
        if added:
            await tx.outbox.write([follow_up_event(
                service="reviews", cause_id=h.help_id, event_type="review.help_requested", key=req.customer_key,
                time=now, data={"store_id": req.store_id, "customer_key": req.customer_key,
                                "request_id": req.request_id, "order_id": req.order_id, "rating": lowest,
                                "help_id": h.help_id, "message": text, "product_ids": req.product_ids,
                                "order_number": req.order_number, "locale": req.locale})])
        await _answered(tx, req, now)
    if added:
        reviews_metrics().help_requests.labels(req.store_id).inc()
        log.info("review_help_requested", help_id=h.help_id, request_id=req.request_id)
    return added
