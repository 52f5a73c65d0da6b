"""A store's webhook endpoint for tests: a real HTTP server on 127.0.0.1 (in a thread) that checks
every delivery's Standard Webhooks signature the way a receiver would — with the reference
library, and by the spec's formula by hand (so a bug shared by our signer and the library would
still show) — and answers with the statuses a test scripts.

    r = Receiver(secret); r.thread.start(); r.statuses = [503]   # first POST refused, then 200
    ... r.requests[0]["verified"], r.requests[0]["headers"]["webhook-id"] ...
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


class Receiver:
    """A store's webhook endpoint: answers with `statuses` in turn (then 200) and keeps, per
    request, its headers, body and whether the signature verified."""

    def __init__(self, secret: str) -> None:
        self.secret, self.statuses, self.requests = secret, [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.requests.append({"path": self.path, "headers": headers, "body": body,
                                          "verified": receiver.verify(body, headers),
                                          "by_hand": receiver.verify_by_hand(body, headers)})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/aftercart"

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        try:
            Webhook(self.secret).verify(body, headers)
            return True
        except WebhookVerificationError:
            return False

    def verify_by_hand(self, body: bytes, headers: dict[str, str]) -> bool:
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        fresh = abs(time.time() - int(headers["webhook-timestamp"])) < 300
        return fresh and any(hmac.compare_digest(f"v1,{expected}", s) for s in headers["webhook-signature"].split())
