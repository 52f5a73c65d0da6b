"""Reviews' handlers with shared/testing's in-memory unit of work: the one review request an
order leaves (its id, items, due time counted from delivery or estimated arrival), what shipments,
delivery reports, refunds, cancellations and status regressions do to it, the catalogue and
customer events. Handlers announce nothing themselves: the scheduler does, when a request is due."""
from __future__ import annotations

from datetime import timedelta

import pytest

from services.reviews import handlers
from services.reviews.domain import review_requests as rr
from services.reviews.domain.timing import TimingConfig
from shared.testing import Clock, InMemoryUnitOfWork
from tests.support.fakes.reviews import MemoryProducts, MemoryReviewRequests, MemoryReviews, MemoryStoreSettings
from tests.unit.reviews.order_events import COMPLETED_AT, line, order_event, other_event

DAY = timedelta(days=1)


@pytest.fixture
def store(uid) -> str:
    return f"s{uid}"


def make_tx(**config) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(requests=MemoryReviewRequests(now=Clock().now), products=MemoryProducts(),
                              reviews=MemoryReviews(), store_settings=MemoryStoreSettings(), keep_display_name=False,
                              config=TimingConfig(**{"request_delay_days": 7, "default_transit_days": 3, **config}))


@pytest.fixture
def tx() -> InMemoryUnitOfWork:
    return make_tx()


def only(tx) -> rr.ReviewRequestRecord:
    [req] = tx.requests.rows
    return req


async def test_completion_asks_once_about_each_product_after_arrival_and_the_delay(tx, store):
    completed = order_event(store, "order.completed", 1)
    await handlers.on_order_completed(completed, tx)
    await handlers.on_order_completed(completed, tx)  # a repeat asks nothing twice

    req = only(tx)
    assert (req.request_id, req.cause_event_id, req.store_id, req.order_id, req.customer_key) == (
        handlers.request_id(store, 1), completed.id, store, 1, f"{store}:c7")
    assert req.product_ids == [5, 9]  # the parent product of both variations once, in order
    assert [(i.product_id, i.name, i.line_ids, i.quantity) for i in req.items] == [(5, "p5", (1, 2), 2),
                                                                                 (9, "p9", (3,), 1)]
    assert (req.status, req.basis, req.basis_at) == ("pending", "completed", COMPLETED_AT)
    assert req.due_at == COMPLETED_AT + 3 * DAY + 7 * DAY  # transit to the country, then the delay
    assert (req.email, req.first_name, req.locale, req.shipping_country) == ("x@example.com", "Ann", "de_DE", "DE")
    assert tx.outbox.events == []


async def test_transit_comes_from_the_country_or_a_category_of_the_order(store):
    tx = make_tx(transit_days_by_country={"DE": 2, "US": 9}, transit_days_by_category={40: 20})
    await handlers.on_order_completed(order_event(store, "order.completed", 1, country="US"), tx)
    await handlers.on_order_completed(order_event(store, "order.completed", 2, country="de"), tx)
    await handlers.on_product_upserted(other_event("product.upserted", {
        "store_id": store, "product_id": 9, "type": "simple", "name": "Sofa", "status": "publish",
        "categories": [{"id": 40, "name": "Furniture", "slug": "f"}]}), tx)
    await handlers.on_order_completed(order_event(store, "order.completed", 3, country="DE"), tx)
    due = {r.order_id: r.due_at - COMPLETED_AT for r in tx.requests.rows}
    assert due == {1: 16 * DAY, 2: 9 * DAY, 3: 27 * DAY}  # the category's transit wins over the country's


async def test_a_reported_delivery_counts_from_the_delivery_and_is_not_overridden(tx, store):
    await handlers.on_order_completed(order_event(store, "order.completed", 1), tx)
    delivered_at = COMPLETED_AT + 1 * DAY
    await handlers.on_order_status_changed(order_event(store, "order.status_changed", 1, status="wc-delivered",
                                                       from_status="completed", time=delivered_at), tx)
    assert (only(tx).basis, only(tx).due_at, only(tx).status) == ("delivered", delivered_at + 7 * DAY, "pending")
    # A shipment reported afterwards is an estimate: the known delivery stays.
    await handlers.on_order_shipped(order_event(store, "order.shipped", 1, time=delivered_at + DAY), tx)
    assert (only(tx).basis, only(tx).due_at) == ("delivered", delivered_at + 7 * DAY)


async def test_a_delivery_status_may_come_first_and_is_configurable(store):
    tx = make_tx(delivered_statuses=frozenset({"wc-arrived"}))
    await handlers.on_order_status_changed(order_event(store, "order.status_changed", 1, status="delivered",
                                                       from_status="processing"), tx)
    assert tx.requests.rows == []  # not a delivery status in this store: and processing→delivered holds nothing
    await handlers.on_order_status_changed(order_event(store, "order.status_changed", 1, status="arrived",
                                                       from_status="processing"), tx)
    assert (only(tx).basis, only(tx).due_at) == ("delivered", COMPLETED_AT + 7 * DAY)


async def test_items_shipped_separately_are_asked_about_when_the_last_arrives(tx, store):
    await handlers.on_order_shipped(order_event(store, "order.shipped", 1, tracking={
        "number": "A", "line_ids": [1, 2]}), tx)
    assert (only(tx).basis, only(tx).due_at) == ("shipped", COMPLETED_AT + 10 * DAY)
    later = COMPLETED_AT + 4 * DAY
    await handlers.on_order_shipped(order_event(store, "order.shipped", 1, tracking={
        "number": "B", "line_ids": [3], "shipped_at": later.isoformat()}, cause="B"), tx)
    assert only(tx).due_at == later + 10 * DAY
    # Completion (marked the day after the first parcel) doesn't bring the ask forward again.
    await handlers.on_order_completed(order_event(store, "order.completed", 1, time=COMPLETED_AT + DAY), tx)
    assert (only(tx).due_at, only(tx).product_ids) == (later + 10 * DAY, [5, 9])
    assert len(tx.requests.rows) == 1  # one request per order, listing its items


async def test_refunds_cancel_or_drop_items(tx, store):
    for order_id in (1, 2, 3):
        await handlers.on_order_completed(order_event(store, "order.completed", order_id), tx)
    full = order_event(store, "order.refunded", 1, full_refund=True)
    await handlers.on_order_refunded(full, tx)
    # Order 2: one of product 5's two lines back, then the other: the product is dropped.
    one = {"line_id": 1, "product_id": 5, "quantity": 1, "total": "10.00"}
    await handlers.on_order_refunded(order_event(store, "order.refunded", 2, full_refund=False, refund_lines=[one]), tx)
    r2 = await tx.requests.for_order(store, 2)
    assert (r2.status, r2.product_ids, r2.items[0].refunded_quantity) == ("pending", [5, 9], 1)
    two = {"line_id": 2, "product_id": 5, "quantity": 1, "total": "10.00"}
    await handlers.on_order_refunded(order_event(store, "order.refunded", 2, full_refund=False, refund_lines=[two],
                                                 cause="2nd"), tx)
    r2 = await tx.requests.for_order(store, 2)
    assert (r2.status, r2.product_ids, [i.status for i in r2.items]) == ("pending", [9], ["dropped", "open"])
    # Order 3: every item refunded line by line: cancelled like a full refund.
    every = [{"line_id": n, "quantity": 1, "total": "10.00"} for n in (1, 2, 3)]
    await handlers.on_order_refunded(order_event(store, "order.refunded", 3, full_refund=False, refund_lines=every), tx)
    status = {r.order_id: (r.status, r.status_reason) for r in tx.requests.rows}
    assert status == {1: ("cancelled", "order refunded"), 2: ("pending", None), 3: ("cancelled", "every item refunded")}
    # A partial refund whose lines are unknown changes nothing.
    await handlers.on_order_refunded(order_event(store, "order.refunded", 2, full_refund=False, cause="?"), tx)
    assert (await tx.requests.for_order(store, 2)).product_ids == [9]


async def test_cancelled_or_deleted_before_the_send_cancels(tx, store):
    for order_id in (1, 2):
        await handlers.on_order_completed(order_event(store, "order.completed", order_id), tx)
    await handlers.on_order_cancelled(order_event(store, "order.cancelled", 1), tx)
    await handlers.on_order_deleted(order_event(store, "order.deleted", 2), tx)
    # Completed again later: a cancelled request stays cancelled.
    await handlers.on_order_completed(order_event(store, "order.completed", 1, cause="again"), tx)
    assert {r.order_id: r.status for r in tx.requests.rows} == {1: "cancelled", 2: "cancelled"}


async def test_moving_back_out_of_completed_holds_and_coming_back_re_times(tx, store):
    await handlers.on_order_completed(order_event(store, "order.completed", 1), tx)
    back = COMPLETED_AT + 2 * DAY
    await handlers.on_order_status_changed(order_event(store, "order.status_changed", 1, status="processing",
                                                       from_status="completed", time=back), tx)
    assert (only(tx).status, only(tx).status_reason) == ("held", "order moved back to processing")
    # Completed again (order.completed may repeat its first id and be dropped: the status change re-times).
    again = COMPLETED_AT + 5 * DAY
    await handlers.on_order_status_changed(order_event(store, "order.status_changed", 1, status="completed",
                                                       from_status="processing", time=again), tx)
    assert (only(tx).status, only(tx).due_at, only(tx).basis_at) == ("pending", again + 10 * DAY, again)


async def test_nothing_changes_a_request_already_sent_but_refunds_stop_its_reminder(tx, store):
    await handlers.on_order_completed(order_event(store, "order.completed", 1), tx)
    sent = rr.sent(only(tx), COMPLETED_AT + 10 * DAY, [5, 9], reminder_days=5)
    await tx.requests.save(sent)
    await handlers.on_order_status_changed(order_event(store, "order.status_changed", 1, status="processing",
                                                       from_status="completed"), tx)
    await handlers.on_order_shipped(order_event(store, "order.shipped", 1, time=COMPLETED_AT + 30 * DAY), tx)
    assert only(tx) == sent
    await handlers.on_order_refunded(order_event(store, "order.refunded", 1, full_refund=True), tx)
    assert (only(tx).status, only(tx).reminder_due_at) == ("sent", None)


@pytest.mark.parametrize("items", [[], [line(1, 0)]], ids=["no lines", "no product"])
async def test_an_order_without_products_asks_nothing(tx, store, items):
    await handlers.on_order_completed(order_event(store, "order.completed", 1, line_items=items), tx)
    assert tx.requests.rows == [] and tx.outbox.events == []


async def test_the_catalogue_keeps_parents_only_and_forgets_deleted_products(tx, store):
    base = {"store_id": store, "status": "publish", "image": "https://s/i.jpg", "categories": []}
    await handlers.on_product_upserted(other_event("product.upserted", {**base, "product_id": 5, "type": "variable",
                                                                        "name": "Mug"}), tx)
    await handlers.on_product_upserted(other_event("product.upserted", {**base, "product_id": 51, "parent_id": 5,
                                                                        "type": "variation", "name": "Mug - red"}), tx)
    assert set(await tx.products.get_many(store, [5, 51])) == {5}
    assert (await tx.products.get_many(store, [5]))[5].image_url == "https://s/i.jpg"
    await handlers.on_product_deleted(other_event("product.deleted", {"store_id": store, "product_id": 5}), tx)
    assert await tx.products.get_many(store, [5]) == {}


@pytest.mark.parametrize("keep", [False, True], ids=["names go", "published names stay"])
async def test_customer_linked_and_erased(tx, store, keep):
    from services.reviews.domain import reviews as rv

    tx.keep_display_name = keep
    await handlers.on_order_completed(order_event(store, "order.completed", 1, customer="eabc"), tx)
    await handlers.on_customer_linked(other_event("customer.linked", {
        "store_id": store, "from_key": f"{store}:eabc", "to_key": f"{store}:c9"}), tx)
    req = only(tx)
    assert req.customer_key == f"{store}:c9"
    for pid, status in ((5, "published"), (9, "approved")):
        await tx.reviews.add(rv.Review(
            review_id=rv.review_id(req.request_id, pid), request_id=req.request_id, store_id=store, order_id=1,
            product_id=pid, customer_key=req.customer_key, rating=4, title="", body="ok", display_name="Ann R.",
            reviewer_email="x@example.com", photo=None, status=status, created_at=COMPLETED_AT))
    await tx.reviews.add_help(rv.HelpRequest(help_id="h", request_id=req.request_id, store_id=store, order_id=1,
                                             customer_key=req.customer_key, rating=2, message="broken",
                                             created_at=COMPLETED_AT))
    await handlers.on_customer_erased(other_event("customer.erased", {
        "store_id": store, "customer_id": 9, "key": f"{store}:c9"}), tx)
    assert (only(tx).email, only(tx).first_name) == (None, None)
    names = {r.product_id: (r.display_name, r.reviewer_email) for r in await tx.reviews.for_request(req.request_id)}
    assert names == {5: ("Ann R." if keep else "", None), 9: ("", None)}
    assert (await tx.reviews.help_for(req.request_id)).message is None
