"""WebhookChannel: delivers a message as a signed HTTP POST to the URL the store configured (an SMS
gateway, a chat tool, a push provider), signed per the Standard Webhooks specification with the
`standardwebhooks` reference library:

    webhook-id:        the message id (the same on every retry, so the receiver can dedupe)
    webhook-timestamp: seconds since the epoch of this attempt
    webhook-signature: "v1,<base64 HMAC-SHA256 of '<id>.<timestamp>.<body>'>" with the store's
                       `whsec_<base64 key>` secret

One httpx client (a connection pool) for every store; redirects are not followed. The answer is
read as a SendRefused like an SMTP reply (domain/channels.py): 2xx accepted, 408/425/429/5xx and
network trouble temporary (the sending use case retries with backoff), anything else permanent.

Outside development the destination is checked again when sending, against what its name resolves
to now (the store's settings only refused literal private addresses): a name that resolves to a
loopback or private address is refused for good. A name that re-resolves between that check and
httpx's own connection (DNS rebinding) is the residual risk; an egress proxy closes it.
"""
from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from services.notifier.domain.channels import WEBHOOK, webhook_body, webhook_status_refusal
from services.notifier.domain.delivery import StoredMessage
from services.notifier.domain.store_settings import StoreSettings, is_private_host
from shared.errors import SendRefused
from shared.events.envelope import utcnow

USER_AGENT = "Aftercart-Notifier/1 (Standard Webhooks)"


def signed_headers(secret: str, message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for `body` sent at `at` (UTC)."""
    at = at.replace(microsecond=0)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, at, body.decode())}


async def resolves_privately(host: str) -> bool:
    """Whether `host` is, or resolves to, a loopback / private / non-global address (DNS lookup)."""
    if is_private_host(host):
        return True
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return False  # unknown name: the POST fails as a temporary network error
    return any(is_private_host(str(info[4][0])) for info in infos)


class WebhookChannel:
    name = WEBHOOK

    def __init__(self, *, timeout_s: float = 10.0, development: bool = False,
                 client: httpx.AsyncClient | None = None, now: Callable[[], datetime] = utcnow) -> None:
        self.development, self.now = development, now
        self.client = client or httpx.AsyncClient(timeout=timeout_s, follow_redirects=False,
                                                  headers={"user-agent": USER_AGENT})

    async def deliver(self, message: StoredMessage, store: StoreSettings) -> None:
        url, secret = store.webhook_url, store.webhook_secret
        if not url or not secret:
            raise SendRefused("webhook: not configured", temporary=False)
        if not self.development and await resolves_privately(urlsplit(url).hostname or ""):
            raise SendRefused("webhook: destination resolves to a private address", temporary=False)
        at = self.now()
        body = webhook_body(message, at)
        headers = {**signed_headers(secret, message.message_id, at, body), "content-type": "application/json"}
        try:
            response = await self.client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:  # refused, reset, timeout, TLS: the receiver may come back
            raise SendRefused(f"webhook: {type(exc).__name__}", temporary=True) from exc
        accepted, temporary = webhook_status_refusal(response.status_code)
        if not accepted:
            raise SendRefused(f"webhook: HTTP {response.status_code}", temporary=temporary,
                              code=response.status_code)

    async def close(self) -> None:
        await self.client.aclose()
