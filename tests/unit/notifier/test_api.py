"""The notifier's API with its history repository in memory (FastAPI's dependency_overrides; the
app is built, never started): GET /messages answers the same JSON as ever, newest first, only
with the bearer token, and validates its query."""
from __future__ import annotations

import httpx
import pytest

from services.notifier.config import NotifierSettings
from services.notifier.domain.messages import Draft
from services.notifier.entrypoints.api import create_app, get_message_history
from shared.testing import Clock
from tests.support.fakes.notifier import MemoryMessages

TOKEN = "a-real-token-for-the-notifier-42"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def api():
    clock = Clock()
    messages = MemoryMessages(now=clock.now)
    for i, template in enumerate(("order_thanks", "order_shipped", "order_refunded")):
        await messages.record_intent(message_id=f"m-{i}", cause_event_id=f"e-{i}", cause_type="order.placed",
                                     customer_key="s1:c1",
                                     draft=Draft(template, "ana@example.com", f"Subject {i}", "body", "<p>body</p>"))
        clock.advance(seconds=1)
    await messages.record_intent(message_id="other", cause_event_id="e-x", cause_type="order.placed",
                                 customer_key="s1:c2", draft=Draft("order_thanks", "bo@example.com", "s", "t", "h"))
    await messages.mark_sent("m-0")
    await messages.mark_retry("m-1", "SMTP 451", 60)
    app = create_app(NotifierSettings(environment="production", api_token=TOKEN))
    app.dependency_overrides[get_message_history] = lambda: messages
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield client, clock


async def test_history_is_newest_first_with_the_same_fields_as_ever(api):
    client, clock = api
    r = await client.get("/messages", params={"customer_key": "s1:c1"}, headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    assert [m["message_id"] for m in body] == ["m-2", "m-1", "m-0"]
    assert body[2] == {"message_id": "m-0", "cause_event_id": "e-0", "cause_type": "order.placed",
                       "template": "order_thanks", "channel": "email", "status": "sent", "attempts": 1,
                       "created_at": "2026-03-02T10:00:00+00:00", "sent_at": clock.now().isoformat()}
    assert (body[1]["status"], body[1]["attempts"], body[1]["sent_at"]) == ("pending", 1, None)
    assert "ana@example.com" not in r.text and "body" not in r.text  # no addresses, no bodies


async def test_limit(api):
    client, _ = api
    r = await client.get("/messages", params={"customer_key": "s1:c1", "limit": 2}, headers=AUTH)
    assert [m["message_id"] for m in r.json()] == ["m-2", "m-1"]


async def test_unknown_customer_has_no_messages(api):
    client, _ = api
    r = await client.get("/messages", params={"customer_key": "s9:c9"}, headers=AUTH)
    assert (r.status_code, r.json()) == (200, [])


@pytest.mark.parametrize("params", [{}, {"customer_key": "ab"}, {"customer_key": "x" * 201},
                                    {"customer_key": "s1:c1", "limit": 0}, {"customer_key": "s1:c1", "limit": 501}])
async def test_bad_queries_are_refused(api, params):
    client, _ = api
    r = await client.get("/messages", params=params, headers=AUTH)
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {TOKEN}"}])
async def test_history_needs_the_token(api, headers):
    client, _ = api
    r = await client.get("/messages", params={"customer_key": "s1:c1"}, headers=headers)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


async def test_ops_endpoints_stay_open(api):
    client, _ = api
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/metrics")).status_code == 200


def test_openapi_documents_the_response_model():
    app = create_app(NotifierSettings(environment="development"))
    op = app.openapi()["paths"]["/messages"]["get"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["type"] == "array" and schema["items"]["$ref"].endswith("/MessageOut")
