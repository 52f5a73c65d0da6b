"""The flows API with its repositories in memory (FastAPI's dependency_overrides; the app is built,
never started): flows, store and flow settings, the queue, templates, previews, resend — bearer
token required, bad input a 4xx that changes nothing."""
from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from services.notifier.config import NotifierSettings
from services.notifier.domain.delivery import Plan
from services.notifier.domain.flows import FLOWS
from services.notifier.domain.messages import Draft
from services.notifier.entrypoints.api import create_app
from services.notifier.entrypoints.api_settings import FlowRepositories, get_repositories
from shared.testing import Clock
from tests.support.fakes.notifier import MemoryMessages, MemoryOrderState, MemorySettings
from tests.unit.notifier.orders import order_data

TOKEN = "a-real-token-for-the-notifier-42"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SECRET = "whsec_YWZ0ZXJjYXJ0LXRlc3Qtc2VjcmV0LTAxMjM0NTY="


@pytest.fixture
async def api():
    clock = Clock()
    repos = FlowRepositories(settings=MemorySettings(), messages=MemoryMessages(now=clock.now),
                             orders=MemoryOrderState(), development=False)
    app = create_app(NotifierSettings(environment="production", api_token=TOKEN))
    app.dependency_overrides[get_repositories] = lambda: repos
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=AUTH) as c:
        yield c, repos, clock


async def test_every_route_needs_the_token(api):
    client, _, _ = api
    for method, path in [("GET", "/flows"), ("GET", "/stores/s1/settings"), ("PUT", "/stores/s1/settings"),
                         ("GET", "/queue"), ("GET", "/templates"), ("POST", "/preview"),
                         ("POST", "/messages/m1/resend"), ("PUT", "/stores/s1/flows/order_thanks")]:
        r = await client.request(method, path, headers={"Authorization": "Bearer nope"}, json={})
        assert r.status_code == 401, (method, path)


async def test_flows_lists_the_registry(api):
    client, _, _ = api
    body = (await client.get("/flows")).json()
    assert [f["name"] for f in body] == list(FLOWS)
    review = next(f for f in body if f["name"] == "review_request")
    assert (review["marketing"], review["triggers"], review["order_statuses"]) == (
        True, ["review.requested"], ["completed", "delivered", "partially-shipped", "processing", "shipped"])


async def test_store_settings_change_only_the_fields_given_and_hide_the_secret(api):
    client, repos, _ = api
    assert (await client.get("/stores/s1/settings")).json()["store_name"] is None
    r = await client.put("/stores/s1/settings", json={"store_name": "Kaffee & Co", "timezone": "Europe/Berlin",
                                                       "webhook_secret": SECRET})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["store_name"], body["timezone"], body["webhook_secret"], body["webhook_secret_set"]) == (
        "Kaffee & Co", "Europe/Berlin", None, True)
    await client.put("/stores/s1/settings", json={"returns_url": "https://kaffee.example/returns"})
    assert repos.settings.stores["s1"] == {"store_name": "Kaffee & Co", "timezone": "Europe/Berlin",
                                           "webhook_secret": SECRET,
                                           "returns_url": "https://kaffee.example/returns"}
    got = (await client.get("/stores/s1/settings")).json()
    assert got["returns_url"] == "https://kaffee.example/returns" and SECRET.removeprefix("whsec_") not in str(got)


@pytest.mark.parametrize("body,status", [
    ({"timezone": "Mars/Base"}, 400), ({"locale": "dee"}, 400), ({"returns_url": "javascript:x"}, 400),
    ({"webhook_url": "http://127.0.0.1:9/h"}, 400), ({"no_such": 1}, 422), ({"digest_window_s": "x"}, 422),
    ([1, 2], 422)])
async def test_bad_store_settings_are_refused_and_change_nothing(api, body, status):
    client, repos, _ = api
    r = await client.put("/stores/s1/settings", json=body)
    assert r.status_code == status, r.text
    assert repos.settings.stores == {}


async def test_flow_settings_per_store(api):
    client, repos, _ = api
    assert (await client.get("/stores/s1/flows/order_completed")).json() == {
        "enabled": True, "delay_s": 0, "channel": "email", "marketing": False}
    on_webhook = {"enabled": True, "delay_s": 3600, "channel": "webhook", "marketing": False}
    r = await client.put("/stores/s1/flows/order_completed", json=on_webhook)
    assert r.status_code == 400 and "webhook_url" in r.json()["detail"]  # the store has no webhook yet
    assert ("s1", "order_completed") not in repos.settings.flow_rows
    await client.put("/stores/s1/settings", json={"webhook_url": "https://hooks.example.com/aftercart",
                                                  "webhook_secret": SECRET})
    r = await client.put("/stores/s1/flows/order_completed", json=on_webhook)
    assert r.status_code == 200
    assert (await repos.settings.flow("s1", "order_completed")).delay_s == 3600
    assert (await client.get("/stores/s1/flows")).json()["order_completed"]["channel"] == "webhook"
    assert (await client.get("/stores/s2/flows/order_completed")).json()["delay_s"] == 0
    assert (await client.get("/stores/s1/flows/nope")).status_code == 404
    for bad in ({"delay_s": -1}, {"channel": "pigeon"}, {"enabled": "perhaps"}):
        assert (await client.put("/stores/s1/flows/order_thanks", json=bad)).status_code == 422
    assert ("s1", "order_thanks") not in repos.settings.flow_rows


async def test_queue_shows_scheduled_messages_filterable(api):
    client, repos, clock = api
    for i, (store, flow) in enumerate([("s1", "order_completed"), ("s2", "order_completed"), ("s1", "review_request")]):
        await repos.messages.record_intent(
            message_id=f"m{i}", cause_event_id=f"e{i}", cause_type="x", customer_key=f"{store}:c1",
            draft=Draft(FLOWS[flow].template, "ana@example.com", "S", "T", "H"),
            plan=Plan(flow=flow, store_id=store, order_id=7, due_at=clock.now() + timedelta(hours=i + 1)))
    r = await client.get("/queue", params={"store_id": "s1"})
    assert [(q["message_id"], q["flow"]) for q in r.json()] == [("m0", "order_completed"), ("m2", "review_request")]
    assert "ana@example.com" not in r.text
    assert [q["message_id"] for q in (await client.get("/queue", params={"flow": "order_completed"})).json()] == [
        "m0", "m1"]
    assert (await client.get("/queue", params={"status": "lost"})).status_code == 422


async def test_templates_and_their_locales(api):
    client, _, _ = api
    body = {t["template"]: t for t in (await client.get("/templates")).json()}
    assert body["order_welcome"] == {"template": "order_welcome", "flows": ["welcome"], "locales": ["de", "en"]}
    assert {f.template for f in FLOWS.values()} <= set(body)


async def test_preview_with_a_sample_and_with_a_real_order(api):
    client, repos, _ = api
    r = await client.post("/preview", json={"flow": "coupon_issued", "locale": "de"})
    assert r.status_code == 200
    assert r.json()["subject"] == "Ihr Gutschein AC-7QX2: 5,00\u00a0€ Rabatt" and "AC-7QX2" in r.json()["html"]
    await repos.settings.put_store("s1", {"store_name": "Kaffee & Co"})
    await repos.orders.track(store_id="s1", order_id=77, customer_key="s1:c1", status="processing",
                             event_time=Clock().now(), data=order_data("s1", 77))
    r = await client.post("/preview", json={"flow": "welcome", "store_id": "s1", "order_id": 77})
    body = r.json()
    assert (body["subject"], body["to_address"], body["locale"]) == (
        "Welcome to Kaffee & Co — your order #77", "ana@example.com", "en")
    assert "Blue <Mug>" in body["text"] and "Blue &lt;Mug&gt;" in body["html"]


@pytest.mark.parametrize("body,status", [
    ({"flow": "nope"}, 404), ({"flow": "welcome", "order_id": 77}, 400),
    ({"flow": "welcome", "store_id": "s1", "order_id": 404}, 404), ({"flow": "welcome", "extra": 1}, 422),
    ({"flow": "order_shipped", "store_id": "s1", "order_id": 78}, 400)])
async def test_bad_previews(api, body, status):
    client, repos, _ = api
    await repos.orders.track(store_id="s1", order_id=78, customer_key="s1:c1", status="processing",
                             event_time=Clock().now(), data=order_data("s1", 78))  # no tracking: not a shipment
    assert (await client.post("/preview", json=body)).status_code == status


async def test_resend_repeats_a_sent_message_only(api):
    client, repos, _ = api
    await repos.messages.record_intent(message_id="m1", cause_event_id="e1", cause_type="x", customer_key="s1:c1",
                                       draft=Draft("order_thanks", "ana@example.com", "S", "T", "H"))
    assert (await client.post("/messages/m1/resend")).status_code == 409  # still pending
    await repos.messages.mark_sent("m1")
    r = await client.post("/messages/m1/resend")
    assert (r.status_code, r.json()) == (202, {"message_id": "m1", "status": "pending"})
    assert repos.messages.rows["m1"].status == "pending" and repos.messages.rows["m1"].subject == "S"
    assert (await client.post("/messages/nope/resend")).status_code == 404
