"""A tiny ASGI app for tests of shared/serve.py: answers every request with its process id."""
from __future__ import annotations

import os


def create_app():
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = str(os.getpid()).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
    return app
