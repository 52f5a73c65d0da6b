"""The apps the fuzz tests serve as processes (`python -m shared.service.serve tests.integration.fuzz.apps:<name>`).

Ingest runs exactly as deployed. Notifier, loyalty and reviews run their real app (routers, error
handlers, OpenAPI, a Runtime that connects and migrates on start) without its background workers:
the fuzz only needs their HTTP APIs, and their consumers would join the services' groups while
the notifier's sender would send other tests' pending messages.
"""
from __future__ import annotations

from fastapi import FastAPI

from services.ingest.entrypoints.api import create_app as ingest_app
from services.loyalty.entrypoints.api import create_app as loyalty_app
from services.notifier.entrypoints.api import create_app as notifier_app
from services.reviews.entrypoints.api import create_app as reviews_app


def _api_only(app: FastAPI) -> FastAPI:
    app.state.service.runtime.workers.clear()  # before start: the Runtime starts none
    return app


def ingest() -> FastAPI:
    return ingest_app()


def notifier() -> FastAPI:
    return _api_only(notifier_app())


def loyalty() -> FastAPI:
    return _api_only(loyalty_app())


def reviews() -> FastAPI:
    return _api_only(reviews_app())
