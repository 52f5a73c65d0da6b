"""A tiny ASGI app for tests of shared/serve.py: answers every request with its process id.

Metrics like a service's (built in `create_app`, so in the worker, after the supervisor set
PROMETHEUS_MULTIPROC_DIR): `/hit` counts in `serve_app_hits_total`, every worker adds 1 to the gauge
`serve_app_workers` (livesum), and `/metrics` answers shared/metrics.py's exposition with the
answering worker's pid in `x-pid`.
"""
from __future__ import annotations

import os


def create_app():
    from prometheus_client import Counter, Gauge

    from shared.metrics import CONTENT_TYPE_LATEST, render_metrics

    hits = Counter("serve_app_hits_total", "Requests to /hit")
    workers = Gauge("serve_app_workers", "Worker processes serving", multiprocess_mode="livesum")
    workers.inc()
    pid = str(os.getpid()).encode()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        headers = [(b"content-type", b"text/plain")]
        body = pid
        if scope["path"] == "/hit":
            hits.inc()
        elif scope["path"] == "/metrics":
            body = render_metrics()
            headers = [(b"content-type", CONTENT_TYPE_LATEST.encode()), (b"x-pid", pid)]
        await send({"type": "http.response.start", "status": 200,
                    "headers": headers + [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
    return app
