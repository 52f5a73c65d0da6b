"""Reconciliation (reconcile.py) against FakeWooRest, with in-memory stores, state and batch store
and a clock the test moves: what it asks the REST API, what it feeds the pipeline, its cursors,
the webhooks' health, and one failing store never stopping the others."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from services.ingest.adapters.woo_rest import WooRestError
from services.ingest.metrics import ingest_metrics
from services.ingest.reconcile import Reconciler
from shared.testing import Clock, FakeWooRest
from tests.support.fakes.ingest import MemoryReconcileState, MemoryStores
from tests.support.ingest_payloads import T0, order_state, payload, wc
from tests.unit.ingest.deliveries import figure, store

REST = dict(rest_url="https://s1.example", consumer_key="ck_1", consumer_secret="cs_1")


def _product(minute: int) -> dict:
    return dict(payload("product.v3.docs.json"), date_modified_gmt=wc(T0 + timedelta(minutes=minute)))


def _setup(rest: FakeWooRest, *stores, clock: Clock | None = None) -> tuple[Reconciler, MemoryReconcileState]:
    state = MemoryReconcileState()
    clock = clock or Clock(T0 + timedelta(hours=1))
    reconciler = Reconciler(state, MemoryStores(list(stores) or [store(**REST)]), ingest_metrics(),
                            initial_days=30, client_for=lambda s: rest if s.has_rest_access else None,
                            now=clock.now)
    return reconciler, state


def _types(state: MemoryReconcileState, subject: str) -> list[str]:
    return [e.envelope.type for e in state.batch.outbox.events if e.envelope.subject == subject]


def _listings(rest: FakeWooRest, path: str) -> list[dict]:
    return [params for p, params in rest.requests if p == path]


async def test_a_first_reconcile_imports_the_window_then_reads_only_after_its_cursor():
    old = order_state("processing", -40 * 24 * 60, order_id=3)  # before the first reconcile's window
    rest = FakeWooRest(orders=[order_state("completed", 5, order_id=1), order_state("pending", 6, order_id=2), old],
                       products=[_product(2)], customers=[payload("customer.v3.docs.json")], error=WooRestError)
    reconciler, state = _setup(rest)

    summary = await reconciler.store(store(**REST), rest)
    assert summary == {"webhooks": {"total": 0, "disabled": []}, "product": {"applied": 1},
                       "order": {"applied": 2}, "customer": {"applied": 1}}
    window = wc(T0 + timedelta(hours=1) - timedelta(days=30))
    assert _listings(rest, "/orders") == [
        {"orderby": "modified", "order": "desc", "modified_after": window},
        {"orderby": "modified", "order": "desc", "modified_after": window, "status": "trash"}]
    assert state.cursors == {("s1", "order"): wc(T0 + timedelta(minutes=6)),
                             ("s1", "product"): wc(T0 + timedelta(minutes=2))}
    assert _types(state, "order/1") == ["order.placed", "order.paid", "order.completed"]
    assert _types(state, "order/3") == []
    assert {r.origin for r in state.batch.rows} == {"reconcile"}

    rest.requests.clear()
    again = await reconciler.store(store(**REST), rest)
    # From the cursor minus a minute (exclusive): order 2 is read again, order 1 (at minute 5) is
    # not; the customers' endpoint has no cursor. All duplicates.
    assert _listings(rest, "/orders")[0]["modified_after"] == wc(T0 + timedelta(minutes=5))
    assert (again["order"], again["product"], again["customer"]) == ({"duplicate": 1}, {"duplicate": 1},
                                                                     {"duplicate": 1})
    assert state.cursors[("s1", "order")] == wc(T0 + timedelta(minutes=6))  # never backwards


async def test_since_and_full_override_the_cursor_which_never_moves_back():
    rest = FakeWooRest(orders=[order_state("processing", 5, order_id=1)], error=WooRestError)
    reconciler, state = _setup(rest)
    state.cursors[("s1", "order")] = wc(T0 + timedelta(minutes=30))
    await reconciler.store(store(**REST), rest, since=T0)
    assert _listings(rest, "/orders")[0]["modified_after"] == wc(T0)
    assert state.cursors[("s1", "order")] == wc(T0 + timedelta(minutes=30))
    rest.requests.clear()
    await reconciler.store(store(**REST), rest, full=True)
    assert _listings(rest, "/orders")[0] == {"orderby": "modified", "order": "desc"}


async def test_the_trash_sweep_repairs_a_lost_delete_but_announces_no_old_trash():
    live = order_state("processing", 5, order_id=1)
    rest = FakeWooRest(orders=[live], error=WooRestError)
    reconciler, state = _setup(rest)
    await reconciler.store(store(**REST), rest)
    rest.resources["orders"] = [dict(live, status="trash", date_modified_gmt=wc(T0 + timedelta(minutes=8))),
                                order_state("trash", 7, order_id=4)]  # trashed before ingest ever saw it
    summary = await reconciler.store(store(**REST), rest)
    assert summary["order"] == {"applied": 1}
    assert _types(state, "order/1")[-1] == "order.deleted"
    assert _types(state, "order/4") == []


async def test_new_refunds_are_fetched_once_and_a_failed_fetch_still_announces_the_refund():
    refund = dict(payload("refund.v3.docs.json"), id=9001, reason="torn")
    paid = order_state("processing", 5, order_id=1, refunds=[(9001, "5.00"), (9002, "1.00")])
    rest = FakeWooRest(orders=[paid], refunds={(1, 9001): refund}, error=WooRestError)
    reconciler, state = _setup(rest)
    summary = await reconciler.store(store(**REST), rest)
    assert summary["order"] == {"applied": 1, "refund_details_missing": 1}  # 9002: 404
    refunds = {e.envelope.data["refund"]["refund_id"]: e.envelope.data["refund"]
               for e in state.batch.outbox.of_type("order.refunded")}
    assert refunds[9001]["reason"] == "torn" and refunds[9001]["line_items"] is not None
    assert refunds[9002]["line_items"] is None
    rest.requests.clear()
    await reconciler.store(store(**REST), rest)
    assert [p for p, _ in rest.requests if "/refunds/" in p] == []  # known refunds are not fetched again


async def test_webhooks_health_is_recorded_and_a_disabled_one_raises_the_gauge():
    hooks = [{"id": 1, "status": "disabled", "topic": "order.created"},
             {"id": 2, "status": "active", "topic": "order.updated"}, {"id": "not-a-number"}]
    rest = FakeWooRest(webhooks=hooks, error=WooRestError)
    reconciler, state = _setup(rest)
    assert await reconciler.check_webhooks(store(**REST), rest) == {"total": 2, "disabled": [1]}
    assert figure("ingest_webhooks_disabled", store="s1") == 1.0
    assert state.webhooks == {("s1", 1): ("order.created", "disabled"), ("s1", 2): ("order.updated", "active")}
    rest.hooks = [hooks[1]]  # the disabled one was deleted in WooCommerce
    assert await reconciler.check_webhooks(store(**REST), rest) == {"total": 1, "disabled": []}
    assert figure("ingest_webhooks_disabled", store="s1") == 0.0
    assert state.webhooks == {("s1", 2): ("order.updated", "active")}


class _Unreachable(FakeWooRest):
    def modified_since(self, resource, modified_after, status=None):
        raise httpx.ConnectError("connection refused")


async def test_every_store_is_reconciled_and_one_failing_store_stops_none_of_the_others():
    ok, down = FakeWooRest(orders=[order_state("pending", 5, order_id=1)], error=WooRestError), _Unreachable()
    stores = [store("a1", **REST), store("b2"), store("c3", **REST), store("d4", **REST)]
    clients = {"a1": ok, "c3": down}

    def client_for(s):
        if s.store_id == "d4":
            raise WooRestError("REST URL must be https (got http://d4.example)")
        return clients.get(s.store_id) if s.has_rest_access else None

    reconciler = Reconciler(MemoryReconcileState(), MemoryStores(stores), ingest_metrics(), client_for=client_for,
                            now=Clock(T0 + timedelta(hours=1)).now)
    results = await reconciler.all()
    assert results["a1"]["order"] == {"applied": 1}
    assert results["b2"] == {"skipped": "no REST URL or credentials"}
    # The cause, not just the type (issue 15 point 8), and never a URL's credentials.
    assert results["c3"] == {"error": "ConnectError", "cause": "connection_refused", "reason": "connection refused"}
    assert results["d4"] == {"error": "WooRestError", "cause": "refused_url",
                             "reason": "REST URL must be https (got http://d4.example)"}
    assert ok.closed and down.closed
    assert await reconciler.all(store_ids=["b2"]) == {"b2": {"skipped": "no REST URL or credentials"}}


async def test_the_schedule_skips_a_round_while_another_instance_holds_its_lock():
    rest = FakeWooRest(orders=[order_state("pending", 5, order_id=1)], error=WooRestError)
    reconciler, state = _setup(rest)
    state.lock_held_elsewhere = True
    schedule = asyncio.create_task(reconciler.run_schedule(0))
    for _ in range(50):
        await asyncio.sleep(0)
    assert rest.requests == []
    state.lock_held_elsewhere = False
    for _ in range(50):
        await asyncio.sleep(0)
    schedule.cancel()
    await asyncio.gather(schedule, return_exceptions=True)
    assert _types(state, "order/1") == ["order.placed"]


async def test_the_cli_job_reports_an_unknown_store_or_one_without_rest_access():
    reconciler, _ = _setup(FakeWooRest(), store("s1"))

    async def job(s, client):
        pytest.fail("no job without a client")

    assert await reconciler.with_client("nobody", job) == {"store_id": "nobody", "error": "no such store"}
    assert await reconciler.with_client("s1", job) == {"store_id": "s1",
                                                       "error": "the store has no REST URL or credentials"}
