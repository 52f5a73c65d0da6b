"""Builds a service's FastAPI app: lifespan that starts/stops its Runtime, ops endpoints, errors."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from shared.http import install_error_handlers, ops_router
from shared.logging import setup_logging
from shared.runtime import Runtime


def build_app(*, title: str, description: str, runtime: Runtime, routers: list[APIRouter],
              state_name: str, state: object) -> FastAPI:
    setup_logging(runtime.service, runtime.settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await runtime.start()
        yield
        await runtime.stop()

    app = FastAPI(title=title, version="1", description=description, lifespan=lifespan)
    setattr(app.state, state_name, state)
    install_error_handlers(app)
    app.include_router(ops_router(runtime.readiness))
    for r in routers:
        app.include_router(r)
    return app
