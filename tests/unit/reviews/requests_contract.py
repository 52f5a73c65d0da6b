"""One contract for the review requests and the catalogue, and their fakes: the Memory* twins run
it in tests/unit/reviews, the Pg* adapters against PostgreSQL in tests/integration/reviews — so
handler and scheduler tests on the fakes can be trusted."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from services.reviews.domain import review_requests as rr
from services.reviews.domain.products import ProductInfo

DUE = datetime(2026, 3, 8, 10, tzinfo=timezone.utc)


def request(store_id: str, rid: str, order_id: int, *, customer_key: str | None = None, due: datetime = DUE,
            products=(5, 9)) -> rr.ReviewRequestRecord:
    items = tuple(rr.RequestItem(product_id=p, name=f"Product {p}", line_ids=(p * 10, p * 10 + 1), quantity=2)
                  for p in products)
    return rr.ReviewRequestRecord(
        request_id=f"{store_id}-{rid}", cause_event_id=f"cause-{rid}", store_id=store_id, order_id=order_id,
        customer_key=customer_key or f"{store_id}:c1", product_ids=list(products), status=rr.PENDING, due_at=due,
        created_at=due, items=items, order_number=f"N{order_id}", locale="de_DE", email="ann@example.com",
        first_name="Ann", shipping_country="DE", basis="completed", basis_at=due - timedelta(days=14))


async def check_requests_contract(requests, store_id: str) -> None:
    key, other = f"{store_id}:c1", f"{store_id}:c2"
    assert await requests.for_customer(key) == []
    assert await requests.for_order(store_id, 1) is None
    a = request(store_id, "a", 1)
    assert await requests.add(a) is True
    assert await requests.add(request(store_id, "a", 2)) is False  # a repeated request id is ignored
    assert await requests.add(request(store_id, "b", 1)) is False  # so is a second request for the same order
    assert await requests.add(request(store_id, "c", 2, products=[7], due=DUE + timedelta(days=1))) is True
    assert await requests.add(request(store_id, "d", 3, customer_key=other, due=DUE - timedelta(days=1))) is True

    got = await requests.for_order(store_id, 1)
    assert replace(got, created_at=a.created_at, updated_at=None) == a  # every field and item round-trips
    assert got.created_at.tzinfo is not None
    assert await requests.get(a.request_id) == got
    assert await requests.get("nope") is None
    assert sorted(r.request_id for r in await requests.for_customer(key)) == [f"{store_id}-a", f"{store_id}-c"]
    assert len(await requests.for_customer(key, limit=1)) == 1
    assert {r.order_id for r in await requests.listing(store_id=store_id)} == {1, 2, 3}
    assert [r.order_id for r in await requests.listing(store_id=store_id, order_id=2)] == [2]

    # Claims: due pending rows, oldest due first, up to the limit.
    assert [r.order_id for r in await requests.claim_due(DUE, 10)] == [3, 1]
    assert [r.order_id for r in await requests.claim_due(DUE, 1)] == [3]
    assert await requests.claim_due(DUE - timedelta(days=2), 10) == []

    # Save writes back status, times and items (refunds, drops).
    item = replace(a.items[0], refunded_quantity=2, status=rr.DROPPED)
    sent = replace(a, status=rr.SENT, sent_at=DUE, reminder_due_at=DUE + timedelta(days=5), product_ids=[9],
                   items=(item, a.items[1]), status_reason="x")
    await requests.save(sent)
    again = await requests.for_order(store_id, 1)
    assert (again.status, again.sent_at, again.reminder_due_at, again.product_ids, again.items, again.status_reason
            ) == (rr.SENT, DUE, DUE + timedelta(days=5), [9], (item, a.items[1]), "x")
    assert [r.order_id for r in await requests.claim_due(DUE + timedelta(days=1), 10)] == [3, 2]  # sent: no more
    assert await requests.claim_reminders(DUE + timedelta(days=4), 10) == []
    assert [r.order_id for r in await requests.claim_reminders(DUE + timedelta(days=5), 10)] == [1]
    assert [r.status for r in await requests.listing(store_id=store_id, status=rr.SENT)] == [rr.SENT]

    # Asked products: once per customer and product; the same request may claim again.
    assert await requests.claim_products(a, [5, 9], DUE) == [5, 9]
    assert await requests.claim_products(a, [5, 9], DUE) == [5, 9]
    c = await requests.for_order(store_id, 2)
    assert await requests.claim_products(replace(c, product_ids=[5, 7]), [5, 7], DUE) == [7]
    d = await requests.for_order(store_id, 3)
    assert await requests.claim_products(d, [5], DUE) == [5]  # another customer

    # customer.linked: the guest's requests and asked products move to the registered key.
    await requests.relink(store_id, other, key)
    assert sorted(r.order_id for r in await requests.for_customer(key)) == [1, 2, 3]
    assert await requests.for_customer(other) == []
    d = await requests.for_order(store_id, 3)
    assert await requests.claim_products(d, [5], DUE) == []  # 5 belongs to request a now

    # customer.erased: no email or name left.
    assert await requests.erase_customer(store_id, key) == 3
    assert {(r.email, r.first_name) for r in await requests.for_customer(key)} == {(None, None)}


async def check_products_contract(products, store_id: str) -> None:
    p = ProductInfo(store_id=store_id, product_id=5, name="Mug", image_url="https://s/m.jpg", permalink="https://s/p/5",
                    category_ids=(3, 4))
    assert await products.get_many(store_id, [5]) == {}
    await products.upsert(p)
    await products.upsert(replace(p, name="Big mug"))
    assert await products.get_many(store_id, [5, 6]) == {5: replace(p, name="Big mug")}
    await products.delete(store_id, 5)
    await products.delete(store_id, 5)
    assert await products.get_many(store_id, [5]) == {}


async def check_reviews_contract(requests, reviews, store_id: str) -> None:
    from services.reviews.domain import reviews as rv

    key = f"{store_id}:c1"
    req = request(store_id, "r", 1)
    await requests.add(req)
    assert await reviews.ratings(req.request_id) == {}
    await reviews.rate(req.request_id, {5: 2, 9: 4}, DUE)
    await reviews.rate(req.request_id, {5: 3}, DUE)  # a later choice replaces the earlier one
    assert await reviews.ratings(req.request_id) == {5: 3, 9: 4}

    review = rv.Review(review_id=rv.review_id(req.request_id, 5), request_id=req.request_id, store_id=store_id,
                       order_id=1, product_id=5, customer_key=key, rating=3, title="<b>Fine</b>", body="Good\nmug",
                       display_name="Ann", reviewer_email="ann@example.com", photo=None, status=rv.APPROVED,
                       created_at=DUE, locale="de_DE")
    assert await reviews.add(review) is True
    assert await reviews.add(replace(review, rating=5)) is False  # one review per product of a request
    assert await reviews.add(replace(review, review_id="other-id")) is False
    assert await reviews.for_request(req.request_id) == [review]

    h = rv.HelpRequest(help_id=rv.help_id(req.request_id), request_id=req.request_id, store_id=store_id, order_id=1,
                       customer_key=key, rating=3, message="Broken handle", created_at=DUE)
    assert await reviews.help_for(req.request_id) is None
    assert await reviews.add_help(h) is True
    assert await reviews.add_help(replace(h, message="again")) is False
    assert await reviews.help_for(req.request_id) == h

    assert await reviews.csat(req.request_id) is None
    await reviews.set_csat(req.request_id, store_id, 2, DUE)
    await reviews.set_csat(req.request_id, store_id, 4, DUE)  # a later answer replaces the earlier
    assert await reviews.csat(req.request_id) == 4

    await reviews.erase_customer(store_id, key, keep_display_name=True)  # not published: the name goes anyway
    [erased] = await reviews.for_request(req.request_id)
    assert (erased.reviewer_email, erased.display_name, erased.body) == (None, "", "Good\nmug")
    assert (await reviews.help_for(req.request_id)).message is None


async def check_publication_contract(requests, reviews, store_id: str) -> None:
    from services.reviews.domain import reviews as rv

    req = request(store_id, "p", 1)
    await requests.add(req)

    def review(pid: int, status: str, minute: int) -> rv.Review:
        return rv.Review(review_id=rv.review_id(req.request_id, pid), request_id=req.request_id, store_id=store_id,
                         order_id=1, product_id=pid, customer_key=req.customer_key, rating=4, title="t", body="b",
                         display_name="Ann", reviewer_email="ann@example.com", photo=None, status=status,
                         created_at=DUE + timedelta(minutes=minute))

    a, b, held = review(5, rv.APPROVED, 1), review(9, rv.APPROVED, 2), review(11, rv.PENDING, 0)
    for r in (a, b, held):
        await reviews.add(r)
    lease = DUE + timedelta(minutes=2)
    claimed = await reviews.claim_publishable(DUE, lease, 10)
    assert [(r.product_id, r.publish_attempts) for r in claimed] == [(5, 1), (9, 1)]  # approved only, oldest first
    assert await reviews.claim_publishable(DUE + timedelta(minutes=1), lease, 10) == []  # leased
    assert [r.publish_attempts for r in await reviews.claim_publishable(lease, lease, 1)] == [2]  # lease over

    assert await reviews.published(a.review_id, 321, DUE) is True
    assert await reviews.published(a.review_id, 322, DUE) is False  # once
    got = await reviews.get(a.review_id)
    assert (got.status, got.woo_review_id, got.published_at) == (rv.PUBLISHED, 321, DUE)

    await reviews.publish_failed(b.review_id, "POST → 503", DUE + timedelta(hours=1))
    assert (await reviews.get(b.review_id)).status == rv.APPROVED
    assert await reviews.claim_publishable(DUE + timedelta(minutes=59), DUE + timedelta(hours=2), 10) == []
    assert [r.product_id for r in await reviews.claim_publishable(DUE + timedelta(hours=1), lease, 10)] == [9]
    await reviews.publish_failed(b.review_id, "POST → 404 woocommerce_rest_product_invalid_id", None)
    failed = await reviews.get(b.review_id)
    assert (failed.status, failed.publish_error) == (rv.FAILED, "POST → 404 woocommerce_rest_product_invalid_id")

    assert [r.product_id for r in await reviews.queue(store_id, (rv.PENDING, rv.FAILED))] == [11, 9]
    assert await reviews.moderate(a.review_id, rv.REJECTED, (rv.PENDING, rv.FAILED)) is None  # published: no
    approved = await reviews.moderate(held.review_id, rv.APPROVED, (rv.PENDING,), display_name="A. R.")
    assert (approved.status, approved.display_name) == (rv.APPROVED, "A. R.")
    again = await reviews.moderate(b.review_id, rv.APPROVED, (rv.FAILED,))
    assert (again.status, again.publish_attempts) == (rv.APPROVED, 0)  # a fresh start after a fix
    assert sorted(r.product_id for r in await reviews.claim_publishable(DUE + timedelta(days=1), lease, 10)) == [9, 11]
    assert await reviews.get("nope") is None


async def check_store_settings_contract(settings, store_id: str) -> None:
    from services.reviews.domain.store_settings import StoreOverrides

    assert await settings.get(store_id) == StoreOverrides()
    o = StoreOverrides(request_delay_days=3, transit_days_by_country={"DE": 2}, transit_days_by_category={17: 21},
                       delivered_statuses=["arrived"], incentive_note="", keep_display_name_on_erasure=True)
    await settings.put(store_id, o)
    assert await settings.get(store_id) == o  # int keys, empty strings and booleans survive the JSON
    await settings.put(store_id, StoreOverrides(reminder_days=0))
    assert await settings.get(store_id) == StoreOverrides(reminder_days=0)  # replaced, not merged
    assert await settings.get(f"{store_id}-other") == StoreOverrides()
