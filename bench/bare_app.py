"""The baseline: a FastAPI app with ingest's webhook route that answers 200 and does nothing.

Served exactly like ingest (shared/serve.py: same workers, uvicorn with uvloop and httptools, no
access log, the same garbage-collector settings), it measures what the server and the framework
cost before ingest does any work.

    python -m shared.service.serve bench.bare_app:create_app --port 8101 --workers 2
"""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from shared.service.gc_tuning import tune_gc
from shared.service.settings import ServiceSettings


@asynccontextmanager
async def _lifespan(app: FastAPI):
    tune_gc(ServiceSettings().gc_young_threshold)  # the same collector settings as the services
    yield


def create_app() -> FastAPI:
    app = FastAPI(title="bare baseline", lifespan=_lifespan)

    @app.post("/webhooks/woocommerce")
    async def receive() -> JSONResponse:
        return JSONResponse({"outcome": "bare", "events": 0}, status_code=200)

    @app.get("/readyz")
    async def readyz() -> dict:
        return {"ready": True}

    return app
