"""Helpers for the store simulator tests: real payload fixtures, an httpx client bound to the REST
app (ASGITransport, no network) and a recording webhook receiver."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

from deploy.local.storesim import Store, create_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "woocommerce"
CK, CS = "ck_test", "cs_test"
API = "/wp-json/wc/v3"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def home_of(payload: dict) -> str:
    """The store home URL a real payload came from (its _links.self href up to wp-json/)."""
    return payload["_links"]["self"][0]["href"].split("wp-json/")[0]


def api_client(store: Store, **app_kwargs: Any) -> httpx.AsyncClient:
    app = create_app(store, consumer_key=CK, consumer_secret=CS, **app_kwargs)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim",
                             auth=(CK, CS))


class Receiver:
    """A tiny FastAPI webhook receiver recording raw requests; answers ``status``."""

    def __init__(self, status: int = 200):
        self.status = status
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.app = FastAPI()

        @self.app.post("/webhooks/woocommerce")
        async def hook(request: Request) -> Response:
            self.requests.append((dict(request.headers), await request.body()))
            return Response(b"ok", status_code=self.status)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app))


RECEIVER_URL = "http://receiver.test/webhooks/woocommerce"
