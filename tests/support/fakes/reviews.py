"""Reviews' adapters in memory, with the same async methods and rules as the PostgreSQL ones
(the contract suites in tests/unit/reviews run against both):

- MemoryReviewRequests (PgReviewRequests): a request whose id or whose (store, order) is already
  there is ignored; claims take due rows oldest first (no locking needed in one process); asked
  products are claimed once per (store, customer, product); listings come newest first.
- MemoryProducts (PgProducts), MemoryReviews (PgReviews), MemoryPhotoStore (LocalPhotoStore),
  MemoryStoreSettings (PgStoreSettings); FakeStoreAccess and FakeWooReviews for publication.

    tx = InMemoryUnitOfWork(requests=MemoryReviewRequests(), products=MemoryProducts(), config=TimingConfig())
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from shared.events.envelope import utcnow

if TYPE_CHECKING:
    from services.reviews.domain.products import ProductInfo
    from services.reviews.domain.review_requests import ReviewRequestRecord


class MemoryReviewRequests:
    def __init__(self, now: Callable[[], datetime] = utcnow) -> None:
        """`now` stamps `created_at`/`updated_at` (PostgreSQL's now()); pass a Clock's `now` to control it."""
        self.now = now
        self.by_id: dict[str, ReviewRequestRecord] = {}
        self.asked: dict[tuple[str, str, int], str] = {}  # (store, customer, product) → request id

    @property
    def rows(self) -> list[ReviewRequestRecord]:
        return list(self.by_id.values())

    async def add(self, req: ReviewRequestRecord) -> bool:
        if req.request_id in self.by_id or any((r.store_id, r.order_id) == (req.store_id, req.order_id)
                                               for r in self.by_id.values()):
            return False
        self.by_id[req.request_id] = replace(req, created_at=self.now(), updated_at=self.now())
        return True

    async def save(self, req: ReviewRequestRecord) -> None:
        if req.request_id in self.by_id:
            kept = self.by_id[req.request_id]
            self.by_id[req.request_id] = replace(req, created_at=kept.created_at, updated_at=self.now())

    async def for_order(self, store_id: str, order_id: int) -> ReviewRequestRecord | None:
        return next((r for r in self.by_id.values() if (r.store_id, r.order_id) == (store_id, order_id)), None)

    async def get(self, request_id: str, *, lock: bool = False) -> ReviewRequestRecord | None:
        return self.by_id.get(request_id)

    async def claim_due(self, now: datetime, limit: int) -> list[ReviewRequestRecord]:
        due = [r for r in self.by_id.values() if r.status == "pending" and r.due_at <= now]
        return sorted(due, key=lambda r: (r.due_at, r.request_id))[:limit]

    async def claim_reminders(self, now: datetime, limit: int) -> list[ReviewRequestRecord]:
        due = [r for r in self.by_id.values()
               if r.status == "sent" and r.reminder_due_at is not None and r.reminder_due_at <= now]
        return sorted(due, key=lambda r: (r.reminder_due_at, r.request_id))[:limit]

    async def claim_products(self, req: ReviewRequestRecord, product_ids: list[int], now: datetime) -> list[int]:
        mine = []
        for pid in product_ids:
            owner = self.asked.setdefault((req.store_id, req.customer_key, pid), req.request_id)
            if owner == req.request_id:
                mine.append(pid)
        return sorted(mine)

    async def for_customer(self, customer_key: str, limit: int = 200) -> list[ReviewRequestRecord]:
        mine = [r for r in self.by_id.values() if r.customer_key == customer_key]
        return sorted(mine, key=lambda r: (-r.created_at.timestamp(), r.request_id))[:limit]

    async def listing(self, *, store_id: str | None = None, order_id: int | None = None, status: str | None = None,
                      limit: int = 200) -> list[ReviewRequestRecord]:
        found = [r for r in self.by_id.values() if (store_id is None or r.store_id == store_id)
                 and (order_id is None or r.order_id == order_id) and (status is None or r.status == status)]
        return sorted(found, key=lambda r: (-r.created_at.timestamp(), r.request_id))[:limit]

    async def erase_customer(self, store_id: str, customer_key: str) -> int:
        n = 0
        for rid, r in list(self.by_id.items()):
            if (r.store_id, r.customer_key) == (store_id, customer_key):
                self.by_id[rid] = replace(r, email=None, first_name=None, updated_at=self.now())
                n += 1
        return n

    async def relink(self, store_id: str, from_key: str, to_key: str) -> None:
        for rid, r in list(self.by_id.items()):
            if (r.store_id, r.customer_key) == (store_id, from_key):
                self.by_id[rid] = replace(r, customer_key=to_key, updated_at=self.now())
        for (store, key, pid), rid in list(self.asked.items()):
            if (store, key) == (store_id, from_key):
                del self.asked[(store, key, pid)]
                self.asked.setdefault((store, to_key, pid), rid)


class MemoryProducts:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], ProductInfo] = {}

    async def upsert(self, p: ProductInfo) -> None:
        self.rows[(p.store_id, p.product_id)] = p

    async def delete(self, store_id: str, product_id: int) -> None:
        self.rows.pop((store_id, product_id), None)

    async def get_many(self, store_id: str, product_ids: list[int]) -> dict[int, ProductInfo]:
        return {pid: self.rows[(store_id, pid)] for pid in product_ids if (store_id, pid) in self.rows}


class MemoryReviews:
    """PgReviews in memory: one review per (request, product), one help request per request."""

    def __init__(self) -> None:
        self.ratings_by_request: dict[str, dict[int, int]] = {}
        self.by_id: dict = {}
        self.helps: dict = {}
        self.next_attempt: dict[str, datetime | None] = {}
        self.csat_scores: dict[str, int] = {}

    async def rate(self, request_id: str, ratings: dict[int, int], now: datetime) -> None:
        self.ratings_by_request.setdefault(request_id, {}).update(ratings)

    async def ratings(self, request_id: str) -> dict[int, int]:
        return dict(self.ratings_by_request.get(request_id, {}))

    async def add(self, review) -> bool:
        if review.review_id in self.by_id or any((r.request_id, r.product_id) == (review.request_id, review.product_id)
                                                 for r in self.by_id.values()):
            return False
        self.by_id[review.review_id] = review
        return True

    async def for_request(self, request_id: str) -> list:
        return sorted((r for r in self.by_id.values() if r.request_id == request_id), key=lambda r: r.product_id)

    async def add_help(self, h) -> bool:
        if h.request_id in self.helps:
            return False
        self.helps[h.request_id] = h
        return True

    async def help_for(self, request_id: str):
        return self.helps.get(request_id)

    async def set_csat(self, request_id: str, store_id: str, score: int, now: datetime) -> None:
        self.csat_scores[request_id] = score

    async def csat(self, request_id: str) -> int | None:
        return self.csat_scores.get(request_id)

    async def get(self, review_id: str):
        return self.by_id.get(review_id)

    async def claim_publishable(self, now: datetime, lease_until: datetime, limit: int) -> list:
        due = sorted((r for r in self.by_id.values() if r.status == "approved"
                      and (self.next_attempt.get(r.review_id) is None or self.next_attempt[r.review_id] <= now)),
                     key=lambda r: (r.created_at, r.review_id))[:limit]
        out = []
        for r in due:
            self.by_id[r.review_id] = replace(r, publish_attempts=r.publish_attempts + 1)
            self.next_attempt[r.review_id] = lease_until
            out.append(self.by_id[r.review_id])
        return out

    async def published(self, review_id: str, woo_review_id: int, now: datetime) -> bool:
        r = self.by_id.get(review_id)
        if r is None or r.status != "approved":
            return False
        self.by_id[review_id] = replace(r, status="published", woo_review_id=woo_review_id, published_at=now,
                                        publish_error=None)
        self.next_attempt.pop(review_id, None)
        return True

    async def publish_failed(self, review_id: str, reason: str, retry_at: datetime | None) -> None:
        r = self.by_id.get(review_id)
        if r is None or r.status != "approved":
            return
        self.by_id[review_id] = replace(r, publish_error=reason[:500], status=r.status if retry_at else "failed")
        self.next_attempt[review_id] = retry_at

    async def moderate(self, review_id: str, to_status: str, from_statuses: tuple, display_name: str | None = None):
        r = self.by_id.get(review_id)
        if r is None or r.status not in from_statuses:
            return None
        attempts = 0 if to_status == "approved" and r.status != "approved" else r.publish_attempts
        if to_status == "approved":
            self.next_attempt.pop(review_id, None)
        self.by_id[review_id] = replace(r, status=to_status, publish_attempts=attempts,
                                        display_name=r.display_name if display_name is None else display_name)
        return self.by_id[review_id]

    async def queue(self, store_id: str, statuses: tuple, limit: int = 200) -> list:
        return sorted((r for r in self.by_id.values() if r.store_id == store_id and r.status in statuses),
                      key=lambda r: (r.created_at, r.review_id))[:limit]

    async def erase_customer(self, store_id: str, customer_key: str, keep_display_name: bool) -> None:
        for rid, r in list(self.by_id.items()):
            if (r.store_id, r.customer_key) == (store_id, customer_key):
                name = r.display_name if keep_display_name and r.status == "published" else ""
                self.by_id[rid] = replace(r, reviewer_email=None, display_name=name)
        for rid, h in list(self.helps.items()):
            if (h.store_id, h.customer_key) == (store_id, customer_key):
                self.helps[rid] = replace(h, message=None)


class MemoryPhotoStore:
    """LocalPhotoStore in memory."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def save(self, name: str, jpeg: bytes) -> None:
        self.files[name] = jpeg

    def delete(self, name: str) -> None:
        self.files.pop(name, None)

    def path(self, name: str):
        return None


class FakeStoreAccess:
    """IngestStoreAccess in memory: the stores it knows, or PublishRefused like the real one."""

    def __init__(self, accesses: dict | None = None) -> None:
        self.accesses = dict(accesses or {})

    async def get(self, store_id: str):
        from services.reviews.domain.publication import PublishRefused

        if store_id not in self.accesses:
            raise PublishRefused("ingest rest-access → 404", temporary=True, status=404)
        return self.accesses[store_id]


class FakeWooReviews:
    """WooReviews against an in-memory store that answers like WooCommerce (its duplicate check
    included). `refuse(status, code)` fails the next create with that answer; `lose_answer()` makes
    the next create reach the store and then time out, as a lost answer does."""

    def __init__(self) -> None:
        self.reviews: list[dict] = []
        self.requests: list[tuple[str, dict]] = []
        self._refusals: list[tuple[int | None, str | None]] = []
        self._lose = 0

    def refuse(self, status: int | None, code: str | None = None, times: int = 1) -> None:
        self._refusals.extend([(status, code)] * times)

    def lose_answer(self) -> None:
        self._lose += 1

    async def create(self, access, body: dict) -> dict:
        from services.reviews.domain.publication import PublishRefused, is_temporary

        self.requests.append(("POST", dict(body)))
        if self._refusals:
            status, code = self._refusals.pop(0)
            raise PublishRefused(f"POST products/reviews → {status} {code}", temporary=is_temporary(status),
                                 status=status, code=code)
        for r in self.reviews:
            if (r["product_id"], r["review"], r["reviewer_email"]) == (body["product_id"], body["review"],
                                                                     body["reviewer_email"]):
                raise PublishRefused("POST products/reviews → 409 woocommerce_rest_comment_duplicate",
                                     temporary=False, status=409, code="woocommerce_rest_comment_duplicate")
        review = {**body, "id": 100 + len(self.reviews), "store_id": access.store_id}
        self.reviews.append(review)
        if self._lose:
            self._lose -= 1
            raise PublishRefused("POST products/reviews: ReadTimeout", temporary=True)
        return review

    async def find(self, access, product_id: int, reviewer_email: str) -> list[dict]:
        self.requests.append(("GET", {"product": product_id, "reviewer_email": reviewer_email}))
        return [r for r in self.reviews if r["store_id"] == access.store_id and r["product_id"] == product_id
                and r["reviewer_email"].lower() == reviewer_email.lower()]


class MemoryStoreSettings:
    """PgStoreSettings in memory (kept as the JSON-shaped dict storage keeps)."""

    def __init__(self) -> None:
        self.rows: dict[str, dict] = {}

    async def get(self, store_id: str):
        from services.reviews.domain.store_settings import StoreOverrides

        return StoreOverrides.from_dict(json.loads(json.dumps(self.rows.get(store_id, {}))))

    async def put(self, store_id: str, overrides) -> None:
        self.rows[store_id] = overrides.as_dict()
