"""Orders deleted for good (issue 15 point 3): no webhook tells, so reconcile asks the REST API for
the orders it knows but no listing showed, and one WooCommerce answers 404 for becomes
order.deleted with `permanent` — once, trashed before or not."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.ingest.adapters.woo_rest import WooRestError
from services.ingest.domain import APPLIED, DUPLICATE, STALE, derive_order_events
from services.ingest.metrics import ingest_metrics
from services.ingest.reconcile import Reconciler
from shared.events.orders import OrderDeleted
from shared.testing import Clock, FakeWooRest
from tests.support.fakes.ingest import MemoryReconcileState, MemoryStores
from tests.support.ingest_payloads import T0, Chain, assert_valid, order_state
from tests.unit.ingest.deliveries import store

NOW = datetime(2026, 3, 3, tzinfo=timezone.utc)
REST = dict(rest_url="https://s1.example", consumer_key="ck_1", consumer_secret="cs_1")


def test_a_known_order_gone_for_good_is_deleted_once_with_the_flag():
    c = Chain(derive_order_events)
    c.deliver(order_state("processing", 0), "order.created")
    gone = c.deliver({"id": 727}, "order.deleted", now=NOW, permanent=True)
    assert gone.outcome == APPLIED and c.types[-1] == "order.deleted"
    data = OrderDeleted.model_validate(gone.events[0].envelope.data)
    assert (data.permanent, data.previous_status, data.order_id) == (True, "processing", 727)
    assert gone.events[0].key == c.of_type("order.placed")[0].key  # the customer's partition, as ever
    assert c.deliver({"id": 727}, "order.deleted", now=NOW, permanent=True).outcome == DUPLICATE
    # Whatever still arrives about it (a late webhook, a stale reconcile page) is history now.
    assert c.deliver(order_state("completed", 9), "order.updated").outcome == STALE
    assert c.deliver({"id": 727}, "order.deleted", now=NOW).outcome == STALE
    assert c.types.count("order.deleted") == 1
    assert_valid(c.events)


def test_a_trashed_order_deleted_for_good_gets_its_permanent_deletion():
    c = Chain(derive_order_events)
    c.deliver(order_state("completed", 0), "order.created")
    c.deliver({"id": 727}, "order.deleted", now=NOW)
    c.deliver({"id": 727}, "order.deleted", now=NOW + timedelta(days=30), permanent=True)
    trashed, gone = c.of_type("order.deleted")
    assert (trashed.envelope.data["permanent"], gone.envelope.data["permanent"]) == (False, True)
    assert gone.envelope.data["previous_status"] == "trash" and trashed.envelope.id != gone.envelope.id


def test_an_order_never_seen_is_not_announced():
    result = derive_order_events(store().context, None, {"id": 5}, "order.deleted", now=NOW, permanent=True)
    assert (result.outcome, result.events) == (DUPLICATE, [])


def _setup(rest: FakeWooRest) -> tuple[Reconciler, MemoryReconcileState]:
    state = MemoryReconcileState()
    reconciler = Reconciler(state, MemoryStores([store(**REST)]), ingest_metrics(), initial_days=30,
                            client_for=lambda s: rest, now=Clock(T0 + timedelta(hours=1)).now)
    return reconciler, state


def _deleted(state: MemoryReconcileState) -> dict[str, list[bool]]:
    out: dict[str, list[bool]] = {}
    for e in state.batch.outbox.of_type("order.deleted"):
        out.setdefault(e.envelope.subject, []).append(e.envelope.data["permanent"])
    return out


async def test_reconcile_asks_only_for_unlisted_orders_and_takes_only_a_404_as_gone():
    live, old, trashed, purged = (order_state("processing", 5, order_id=1), order_state("completed", 6, order_id=2),
                                  order_state("processing", 7, order_id=3), order_state("pending", 8, order_id=4))
    rest = FakeWooRest(orders=[live, old, trashed, purged], error=WooRestError)
    reconciler, state = _setup(rest)
    assert (await reconciler.store(store(**REST), rest))["order"] == {"applied": 4}
    assert not [p for p in rest.requests if "include" in p[1]]  # everything known was just listed

    # Later: only order 1 changed (the cursor keeps 2-4 out of the listing), 3 went to the trash
    # unseen, 4 was deleted for good.
    state.cursors[("s1", "order")] = order_state("x", 30)["date_modified_gmt"]
    rest.resources["orders"] = [dict(live, date_modified_gmt=order_state("x", 40)["date_modified_gmt"]), old,
                                dict(trashed, status="trash")]
    rest.requests.clear()
    summary = await reconciler.store(store(**REST), rest)
    assert summary["order"]["deleted_for_good"] == 1
    assert _deleted(state) == {"order/4": [True]}
    include = [params for path, params in rest.requests if path == "/orders" and "include" in params]
    assert include == [{"include": "2,3,4", "_fields": "id"}, {"include": "2,3,4", "_fields": "id", "status": "trash"}]
    assert [p for p, _ in rest.requests if p.startswith("/orders/")] == ["/orders/4"]  # only the unlisted one

    again = await reconciler.store(store(**REST), rest)
    assert "deleted_for_good" not in again["order"] and _deleted(state) == {"order/4": [True]}
    assert "4" not in await state.known_orders("s1")


async def test_a_failing_direct_fetch_deletes_nothing():
    class Unreachable(FakeWooRest):
        async def order_exists(self, order_id: int) -> bool:
            raise WooRestError(f"GET /orders/{order_id} → 404 rest_no_route", 404, "rest_no_route")

    rest = Unreachable(orders=[order_state("processing", 5, order_id=1)], error=WooRestError)
    reconciler, state = _setup(rest)
    await reconciler.store(store(**REST), rest)
    rest.resources["orders"] = []
    summary = await reconciler.store(store(**REST), rest)  # the rest of the run goes on
    assert summary["order"] == {"deleted_check_failed": 1} and "customer" in summary
    assert _deleted(state) == {} and await state.known_orders("s1") == {"1"}
