"""Deliveries look exactly like WooCommerce's, coalesce like Action Scheduler, and follow
the auto-disable rule."""
from __future__ import annotations

import json
import re

import httpx
from fastapi.responses import RedirectResponse

from deploy.local.storesim import Queue, WebhookSender, make_sender_factory, php_json_encode, verify

from tests.support.storesim import RECEIVER_URL, Receiver

SOURCE = "https://demo-store.example/"
X_WC = ["x-wc-webhook-source", "x-wc-webhook-topic", "x-wc-webhook-resource",
        "x-wc-webhook-event", "x-wc-webhook-signature", "x-wc-webhook-id",
        "x-wc-webhook-delivery-id"]


def _order(store):
    product = store.create_product("Woo Ninja", "13.50")
    return store.create_order([(product["id"], 2)], billing={"email": "jose@example.net",
                                                              "first_name": "Jos\u00e9"})


def _wire(store, receiver, client, topics=("order.created", "order.updated")):
    hooks = {t: store.create_webhook(t, RECEIVER_URL, secret="s3cret") for t in topics}
    for hook in hooks.values():
        hook.pending_delivery = False  # already pinged
    queue = Queue().attach(store, make_sender_factory(SOURCE, client=client))
    return hooks, queue


async def test_delivery_headers_and_signature_over_raw_bytes(store):
    receiver = Receiver()
    async with receiver.client() as client:
        hooks, queue = _wire(store, receiver, client)
        order = _order(store)
        await queue.run()
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    assert [h for h in X_WC if h in headers] == X_WC
    assert headers["user-agent"] == "WooCommerce/9.8.1 Hookshot (WordPress/6.8)"
    assert headers["content-type"] == "application/json"
    assert headers["x-wc-webhook-source"] == SOURCE
    assert headers["x-wc-webhook-topic"] == "order.created"
    assert headers["x-wc-webhook-resource"] == "order"
    assert headers["x-wc-webhook-event"] == "created"
    assert headers["x-wc-webhook-id"] == str(hooks["order.created"].id)
    assert re.fullmatch(r"[0-9a-f]{32}", headers["x-wc-webhook-delivery-id"])
    assert verify("s3cret", body, headers["x-wc-webhook-signature"])
    assert not verify("s3cret", json.dumps(json.loads(body)).encode(), headers["x-wc-webhook-signature"])
    assert body == php_json_encode(store.order_view(order["id"]))
    assert b"https:\\/\\/demo-store.example\\/wp-json\\/wc\\/v3\\/orders\\/" in body
    assert b"Jos\\u00e9" in body and json.loads(body)["id"] == order["id"]


async def test_three_updates_coalesce_into_one_delivery_with_latest_state(store):
    receiver = Receiver()
    async with receiver.client() as client:
        hooks, queue = _wire(store, receiver, client)
        order = _order(store)
        store.pay_order(order["id"])
        store.add_shipment_tracking(order["id"], "1Z999")
        store.set_order_status(order["id"], "completed")
        assert len(queue) == 2  # one per (webhook, order)
        updated = queue.senders[hooks["order.updated"].id]
        assert queue.add(updated, "order.updated", order["id"]) is False  # already pending
        assert queue.add(updated, "order.updated", order["id"] + 1) is True
        del queue.pending[(updated.webhook_id, order["id"] + 1)]
        made = await queue.run()
        assert await queue.run() == []
    topics = [h["x-wc-webhook-topic"] for h, _ in receiver.requests]
    assert sorted(topics) == ["order.created", "order.updated"]
    assert [d.topic for d in made] == ["order.created", "order.updated"]
    for _, body in receiver.requests:  # both built at delivery time: the latest snapshot
        payload = json.loads(body)
        assert payload["status"] == "completed"
        assert payload["date_modified_gmt"] == store.orders[order["id"]]["date_modified_gmt"]
        assert any(m["key"] == "_wc_shipment_tracking_items" for m in payload["meta_data"])


async def test_deleted_topic_sends_only_the_id(store):
    receiver = Receiver()
    async with receiver.client() as client:
        _, queue = _wire(store, receiver, client, topics=("order.deleted", "order.restored"))
        order = _order(store)
        store.trash_order(order["id"])
        await queue.run()
        store.untrash_order(order["id"])
        await queue.run()
    (deleted_headers, deleted), (_, restored) = receiver.requests
    assert deleted_headers["x-wc-webhook-topic"] == "order.deleted"
    assert deleted == b'{"id":%d}' % order["id"]
    assert json.loads(restored)["status"] == "pending"


async def test_auto_disable_on_the_7th_consecutive_failure_and_reset_on_success():
    receiver = Receiver(status=500)
    async with receiver.client() as client:
        sender = WebhookSender(RECEIVER_URL, SOURCE, 142, "s3cret", client=client)
        counts = []
        for _ in range(7):
            assert await sender.send("order.updated", {"id": 1}) == 500
            counts.append((sender.failure_count, sender.status))
        assert counts == [(1, "active"), (2, "active"), (3, "active"), (4, "active"),
                          (5, "active"), (6, "active"), (6, "disabled")]
        assert len(receiver.requests) == 7  # the 7th request was still sent
        assert await sender.send("order.updated", {"id": 1}) is None  # disabled: nothing new
        assert not Queue(lambda t, a: {"id": a}).add(sender, "order.updated", 1)
        assert len(receiver.requests) == 7

        sender.status = "active"  # re-enabled by hand: the counter stays at 6
        assert await sender.send("order.updated", {"id": 1}) == 500
        assert sender.status == "disabled"

        sender.status, receiver.status = "active", 200
        assert await sender.send("order.updated", {"id": 1}) == 200
        assert sender.failure_count == 0


async def test_5_failures_then_success_resets_the_counter():
    receiver = Receiver(status=503)
    async with receiver.client() as client:
        sender = WebhookSender(RECEIVER_URL, SOURCE, 7, "s", client=client)
        for _ in range(5):
            await sender.send("order.updated", {"id": 1})
        assert sender.failure_count == 5
        receiver.status = 204
        assert await sender.send("order.updated", {"id": 1}) == 204
        assert (sender.failure_count, sender.status) == (0, "active")


async def test_redirect_counts_as_success_and_is_not_followed():
    receiver = Receiver()

    @receiver.app.post("/moved")
    async def moved():
        return RedirectResponse("http://receiver.test/webhooks/woocommerce", status_code=301)

    async with receiver.client() as client:
        sender = WebhookSender("http://receiver.test/moved", SOURCE, 9, "s", client=client)
        sender.failure_count = 3
        assert await sender.send("order.updated", {"id": 1}) == 301
    assert sender.failure_count == 0
    assert receiver.requests == []  # the data never reached the real endpoint


async def test_transport_error_is_a_failure_with_code_0():
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        sender = WebhookSender(RECEIVER_URL, SOURCE, 9, "s", client=client)
        assert await sender.send("order.updated", {"id": 1}) == 0
    assert sender.failure_count == 1 and sender.history[0].status_code == 0


async def test_ping_is_unsigned_form_without_x_wc_headers():
    receiver = Receiver()
    async with receiver.client() as client:
        sender = WebhookSender(RECEIVER_URL, SOURCE, 142, "s3cret", client=client)
        sender.webhook.pending_delivery = True
        assert await sender.send_ping() == 200
    headers, body = receiver.requests[0]
    assert body == b"webhook_id=142"
    assert headers["user-agent"] == "WooCommerce/9.8.1 Hookshot (WordPress/6.8)"
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert not [h for h in headers if h.startswith("x-wc-")]
    assert sender.webhook.pending_delivery is False


async def test_pending_webhook_pings_after_each_delivery_until_a_200():
    receiver = Receiver(status=201)  # deliveries succeed, but a ping needs exactly 200
    async with receiver.client() as client:
        sender = WebhookSender(RECEIVER_URL, SOURCE, 5, "s", client=client)
        sender.webhook.pending_delivery = True
        await sender.send("order.updated", {"id": 1})
        await sender.send("order.updated", {"id": 1})
        receiver.status = 200
        await sender.send("order.updated", {"id": 1})
        await sender.send("order.updated", {"id": 1})
    kinds = ["ping" if b.startswith(b"webhook_id=") else "delivery" for _, b in receiver.requests]
    assert kinds == ["delivery", "ping", "delivery", "ping", "delivery", "ping", "delivery"]
    assert sender.pings == [201, 201, 200]


async def test_delivery_id_repeats_within_the_same_second():
    receiver = Receiver()
    now = [1_750_000_000.2]
    async with receiver.client() as client:
        sender = WebhookSender(RECEIVER_URL, SOURCE, 142, "s", client=client, clock=lambda: now[0])
        await sender.send("order.updated", {"id": 1})
        now[0] = 1_750_000_000.9
        await sender.send("order.updated", {"id": 2})
        now[0] = 1_750_000_001.0
        await sender.send("order.updated", {"id": 1})
    ids = [h["x-wc-webhook-delivery-id"] for h, _ in receiver.requests]
    assert ids[0] == ids[1] != ids[2]


async def test_queued_actions_still_go_out_after_pause(store):
    receiver = Receiver()
    async with receiver.client() as client:
        hooks, queue = _wire(store, receiver, client, topics=("order.created",))
        _order(store)
        hooks["order.created"].status = "paused"
        _order(store)  # not queued: paused webhooks are not loaded
        await queue.run()
    assert len(receiver.requests) == 1  # deliver() does not re-check the status


async def test_rest_reenable_shares_state_with_the_sender(store):
    receiver = Receiver(status=500)
    async with receiver.client() as client:
        hooks, queue = _wire(store, receiver, client, topics=("order.updated",))
        order = _order(store)
        for status in ("processing", "on-hold", "processing", "completed", "on-hold", "processing", "completed"):
            store.set_order_status(order["id"], status)
            await queue.run()
        hook = hooks["order.updated"]
        assert hook.status == "disabled" and hook.failure_count == 6
        store.set_order_status(order["id"], "on-hold")
        assert len(queue) == 0  # a disabled webhook queues nothing
        store.update_webhook(hook.id, status="active")  # what PUT /webhooks/<id> does
        receiver.status = 200
        store.set_order_status(order["id"], "processing")
        await queue.run()
    assert hook.failure_count == 0 and len(receiver.requests) == 8
