"""Builds a service's FastAPI app: lifespan that starts/stops its Runtime, ops endpoints, errors,
and optional fast routes."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from shared.service.gc_tuning import tune_gc
from shared.service.ops import install_error_handlers, ops_router
from shared.logging import setup_logging
from shared.service.runtime import Runtime
from shared.service.settings import ServingSettings


ASGIEndpoint = Callable[[dict, Callable, Callable], Awaitable[None]]


class ServiceApp(FastAPI):
    """FastAPI, plus routes served as bare ASGI ahead of the middleware stack and the router.

    For an endpoint whose callers wait on every answer (ingest's webhook: each store's queue runner
    blocks on it) the framework's per-request layers cost more than the work. A fast route is
    matched on exact (method, path); it must answer every request itself and never raise. The same
    path can also be declared as a normal route, so it stays in the OpenAPI document."""

    fast_routes: dict[tuple[str, str], ASGIEndpoint]
    served_routes: list  # every APIRoute of the app, flat
    # What shared/service/serve.py serves it with (timeouts, limits: ServingSettings) and the
    # service's name for the serving layer's metrics.
    settings: ServingSettings
    service_name: str

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            endpoint = self.fast_routes.get((scope["method"], scope["path"]))
            if endpoint is not None:
                scope["app"] = self
                await endpoint(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def build_app(*, title: str, description: str, runtime: Runtime, routers: list[APIRouter],
              service: object, fast_routes: dict[tuple[str, str], ASGIEndpoint] | None = None) -> FastAPI:
    setup_logging(runtime.service, runtime.settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        tune_gc(runtime.settings.gc_young_threshold)  # the app is built: freeze it out of collections
        await runtime.start()
        yield
        await runtime.stop()

    app = ServiceApp(title=title, version="1", description=description, lifespan=lifespan)
    app.fast_routes = dict(fast_routes or {})
    app.settings, app.service_name = runtime.settings, runtime.service
    app.state.service = service  # what shared/service/deps.py hands to routes
    install_error_handlers(app)
    every = [ops_router(runtime.readiness, runtime.before_scrape), *routers]
    for r in every:
        app.include_router(r)
    # Every route as declared (FastAPI nests included routers): what a 405's Allow names.
    app.served_routes = [route for r in every for route in r.routes]
    return app
