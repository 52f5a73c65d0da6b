"""The worker's small HTTP endpoint (aiohttp, which faust already brings): /healthz (the process
runs), /readyz (tables recovered, partitions assigned, catalogue loaded: profiles are current), /metrics
(Prometheus). Nothing here needs a token: it says nothing about any customer."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


def ready(app: faust.App) -> bool:
    recovery = app.tables.recovery
    return bool(recovery.completed.is_set() and not app.rebalancing)



async def serve_health(app: faust.App, host: str, port: int,
                       also_ready: Callable[[], bool] = lambda: True,
                       details: Callable[[], dict[str, Any]] = dict) -> None:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "service": "profiles"})

    async def readyz(_: web.Request) -> web.Response:
        ok = ready(app) and also_ready()
        return web.json_response({"status": "ready" if ok else "recovering", "service": "profiles", **details()},
                                 status=200 if ok else 503)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    web_app = web.Application()
    web_app.add_routes([web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics)])
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
