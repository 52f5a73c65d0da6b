"""Every internal endpoint of every service asks for its bearer token: the OpenAPI document lists
each one with the bearer scheme, and each answers 401 (with WWW-Authenticate) without the token or
with a wrong one — before any storage is touched. /healthz, /readyz, /metrics and the signed
WooCommerce webhook are the only open doors (with reviews' customer pages, behind signed links). No I/O: the apps are built, never started."""
from __future__ import annotations

import re

import httpx
import pytest

from services.ingest.config import IngestSettings
from services.ingest.entrypoints.api import create_app as ingest_app
from services.loyalty.config import LoyaltySettings
from services.loyalty.entrypoints.api import create_app as loyalty_app
from services.notifier.config import NotifierSettings
from services.notifier.entrypoints.api import create_app as notifier_app
from services.reviews.config import ReviewsSettings
from services.reviews.entrypoints.api import create_app as reviews_app

OPEN = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("POST", "/webhooks/woocommerce"),
        # Reviews' customer pages: guarded by the signed, expiring link in their path instead
        # (tests/integration/reviews/test_pages.py), and the photos published reviews show.
        ("GET", "/r/{token}"), ("POST", "/r/{token}"), ("GET", "/r/{token}/review"), ("POST", "/r/{token}/review"),
        ("POST", "/r/{token}/help"), ("GET", "/r/{token}/thanks"), ("POST", "/r/{token}/csat"),
        ("GET", "/photos/{name}")}
# The notifier's customer pages: public, but each needs a signed, expiring link token
# (tests/unit/notifier/test_customer_pages.py shows a bad or expired one changes nothing).
OPEN |= {("GET", "/u/{token}"), ("POST", "/u/{token}"), ("GET", "/u/{token}/preferences"),
         ("POST", "/u/{token}/preferences")}
TOKEN = "a-real-token-for-this-test-0123"
APPS = {
    "ingest": (ingest_app, IngestSettings),
    "notifier": (notifier_app, NotifierSettings),
    "loyalty": (loyalty_app, LoyaltySettings),
    "reviews": (reviews_app, ReviewsSettings),
}


# Other secrets a service refuses to run without outside development (ingest: its store secrets' key).
REAL_SECRETS = {"ingest": {"secrets_keys": "cmVhbC1rZXktb2YtdGhpcy10ZXN0LTAxMjM0NTY3ODk="},
                "reviews": {"link_secret": "a-real-link-secret-for-this-test-0123",
                            "ingest_api_token": "a-real-ingest-token-for-this-test"}}


def _app(name: str):
    factory, settings = APPS[name]
    return factory(settings(environment="production", api_token=TOKEN, **REAL_SECRETS.get(name, {})))


def _operations(app) -> list[tuple[str, str, dict]]:
    doc = app.openapi()
    return [(method.upper(), path, op) for path, ops in doc["paths"].items() for method, op in ops.items()]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


@pytest.mark.parametrize("name", APPS)
def test_openapi_lists_every_internal_endpoint_with_the_bearer_scheme(name):
    app = _app(name)
    doc = app.openapi()
    internal = [(m, p, op) for m, p, op in _operations(app) if (m, p) not in OPEN]
    assert internal, f"{name} has no internal endpoint"
    schemes = doc["components"]["securitySchemes"]
    bearer = [k for k, v in schemes.items() if v == {**v, "type": "http", "scheme": "bearer"}]
    assert bearer
    for method, path, op in internal:
        assert {bearer[0]: []} in op.get("security", []), (name, method, path)
    # ... and the document hides no route: everything the app serves is in it, or open on purpose.
    served = {(m, r.path) for r in app.served_routes for m in r.methods - {"HEAD"}}
    assert len(served) >= len(internal)  # the flat list really holds the routes (FastAPI nests routers)
    documented = {(m, p) for m, p, _ in _operations(app)}
    assert served - documented <= OPEN | {("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc"),
                                          ("GET", "/openapi.json")}


@pytest.mark.parametrize("name", APPS)
async def test_every_internal_endpoint_answers_401_without_its_token(name):
    app = _app(name)
    internal = [(m, p) for m, p, _ in _operations(app) if (m, p) not in OPEN]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for method, path in internal:
            for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {TOKEN}"},
                            {"Authorization": "Bearer dev-" + name + "-token"}):
                r = await client.request(method, _concrete(path), headers=headers, json={})
                assert r.status_code == 401, (name, method, path, headers, r.status_code, r.text)
                assert r.headers.get("www-authenticate") == "Bearer"


@pytest.mark.parametrize("name", APPS)
def test_the_built_in_token_is_refused_outside_development(name):
    factory, settings = APPS[name]
    with pytest.raises(ValueError, match="development"):
        settings(environment="production", **REAL_SECRETS.get(name, {}))
    with pytest.raises(ValueError, match="development"):
        settings(environment="production", api_token="short", **REAL_SECRETS.get(name, {}))
    assert settings(environment="development").api_token == f"dev-{name}-token"
