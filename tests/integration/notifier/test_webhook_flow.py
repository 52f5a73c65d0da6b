"""A store that puts a flow on the webhook channel: an order event published to real Kafka goes
through the whole notifier as bootstrap wires it (consumer loop, sender, gating, channels) and
reaches the store's endpoint — a real receiver on 127.0.0.1 — as a signed Standard Webhooks POST
that verifies there. A refusal (503) is retried with the sender's backoff under the same
webhook-id, and no email goes out for that flow."""
from __future__ import annotations

import base64

import orjson
import pytest

from services.notifier.adapters.settings import PgSettings
from services.notifier.domain.store_settings import FlowSettings
from tests.integration.notifier.notifier_on_topics import notifier_on_topics
from tests.support.webhook_receiver import Receiver
from tests.unit.notifier.orders import order_data, tracking

SECRET = "whsec_" + base64.b64encode(b"flow-test-key-that-is-32-bytes!!").decode()


@pytest.fixture
def receiver():
    r = Receiver(SECRET)
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


async def test_a_webhook_flow_is_delivered_signed_and_retried(stack, uid, receiver):
    store, to = f"w{uid}", f"hook-{uid}@example.com"
    async with notifier_on_topics(stack, uid, send_backoff_base_s=0.2, send_backoff_max_s=1.0) as it:
        settings = PgSettings(it.pool)
        await settings.put_store(store, {"store_name": f"Hooks {uid}", "webhook_url": receiver.url,
                                         "webhook_secret": SECRET})
        await settings.put_flow(store, "order_shipped", FlowSettings(channel="webhook"))
        receiver.statuses = [503]  # the gateway is down for the first try
        await it.publish("order.shipped", order_data(store, 1, "completed", email=to,
                                                     tracking=tracking("00340434161094042557")))
        await it.wait_for("SELECT string_agg(status || ':' || attempts, ',') FROM messages"
                          " WHERE store_id = $1 AND flow = 'order_shipped'", store, expected="sent:2")
        assert await it.mails(to, count=0) == []  # the flow went to the webhook, not by email
    first, second = receiver.requests
    assert first["verified"] and first["by_hand"] and second["verified"] and second["by_hand"]
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]  # one message, retried
    body = orjson.loads(second["body"])
    assert body["type"] == "message.order_shipped"
    assert body["data"]["to"] == to and body["data"]["store_id"] == store
    assert body["data"]["subject"] == "Your order #1 is on its way"
    assert "00340434161094042557" in body["data"]["text"]
