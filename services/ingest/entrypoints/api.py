"""Ingest's HTTP app. Run: `uvicorn services.ingest.entrypoints.api:create_app --factory --port 8001`."""
from __future__ import annotations

from fastapi import FastAPI

from services.ingest.bootstrap import bootstrap
from services.ingest.config import IngestSettings
from services.ingest.entrypoints.admin import admin_router
from services.ingest.entrypoints.rest_access import rest_access_router
from services.ingest.entrypoints.webhooks import PATH, asgi_receive, webhook_router
from shared.service.app import build_app


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    ingest = bootstrap(settings)
    return build_app(title="Aftercart ingest",
                     description="Receives WooCommerce webhooks, stores them durably, publishes lifecycle events.",
                     runtime=ingest.runtime, routers=[webhook_router(), admin_router(), rest_access_router()], service=ingest,
                     fast_routes={("POST", PATH): asgi_receive()})
