"""The baseline: a FastAPI app with ingest's webhook route that answers 200 and does nothing.

Served by the same uvicorn command line as ingest (same workers, loop, HTTP parser, no access
log), it measures what the server and the framework cost before ingest does any work.

    uvicorn bench.bare_app:create_app --factory --port 8101 --no-access-log
"""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse


def create_app() -> FastAPI:
    app = FastAPI(title="bare baseline")

    @app.post("/webhooks/woocommerce")
    async def receive() -> JSONResponse:
        return JSONResponse({"outcome": "bare", "events": 0}, status_code=200)

    @app.get("/readyz")
    async def readyz() -> dict:
        return {"ready": True}

    return app
