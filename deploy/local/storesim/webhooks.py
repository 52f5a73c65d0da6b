"""Webhook delivery exactly as WooCommerce does it (WC_Webhook::deliver / deliver_ping) and
the Action Scheduler queue that coalesces deliveries.

* :class:`WebhookSender` sends one delivery: POST, signed PHP-JSON body, the seven X-WC-*
  headers, no redirects followed, no retries; it keeps ``failure_count`` / ``status`` with
  the auto-disable rule (the 7th consecutive failure disables the webhook).
* :class:`Queue` keeps at most one pending delivery per (webhook, object id) and builds the
  payload when it runs, so several updates of one order collapse into a single
  ``order.updated`` carrying the latest state.

What is *not* reproduced: HTTP/1.0 (httpx speaks 1.1), WordPress' safe-URL checks (private
IPs and ports other than 80/443/8080 are refused by a real store), the 5-redirect cap on pings.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

from .php_json import php_json_encode
from .signing import delivery_id, sign
from .store import Store, Webhook

DELIVERY_TIMEOUT = 60.0  # MINUTE_IN_SECONDS
PING_TIMEOUT = 5.0  # WP_Http default
MAX_FAILURES = 5  # woocommerce_max_webhook_delivery_failures


@dataclass
class Delivery:
    """One attempted delivery (what WC would write to the webhooks-delivery log)."""

    webhook_id: int
    topic: str
    arg: Any
    status_code: int  # 0 for a transport error (WP_Error -> intval() == 0)
    delivery_id: str
    body: bytes
    headers: dict[str, str]


class WebhookSender:
    """Delivers for one webhook. State (status, failure_count, pending_delivery, URL, secret)
    lives on a :class:`~deploy.local.storesim.store.Webhook` record: pass ``webhook=`` to share it
    with a :class:`Store` (so ``PUT /webhooks/<id>`` re-enables this sender), or let the
    sender create a private one."""

    def __init__(self, delivery_url: str, source_url: str, webhook_id: int, secret: str,
                 wc_version: str = "9.8.1", wp_version: str = "6.8", *,
                 client: httpx.AsyncClient | None = None, webhook: Webhook | None = None,
                 clock: Callable[[], float] = time.time, auth_salt: str = "storesim-auth-salt",
                 ping_after_save: bool = True):
        self.webhook = webhook or Webhook(id=webhook_id, name="", topic="",
                                          delivery_url=delivery_url, secret=secret,
                                          pending_delivery=False)
        # home_url('/') always ends with a slash; receivers key secrets on the exact value.
        self.source_url = source_url if source_url.endswith("/") else source_url + "/"
        self.user_agent = f"WooCommerce/{wc_version} Hookshot (WordPress/{wp_version})"
        self.client = client
        self.clock = clock
        self.auth_salt = auth_salt
        # WC_Webhook_Data_Store::update() pings an active webhook on every save while
        # pending_delivery is true; delivery bookkeeping saves, so a ping can follow a delivery.
        self.ping_after_save = ping_after_save
        self.history: list[Delivery] = []
        self.pings: list[int] = []

    @classmethod
    def for_webhook(cls, webhook: Webhook, source_url: str, **kwargs: Any) -> "WebhookSender":
        return cls(webhook.delivery_url, source_url, webhook.id, webhook.secret,
                   webhook=webhook, **kwargs)

    # State is read through the shared record so REST edits take effect immediately.
    webhook_id = property(lambda self: self.webhook.id)
    delivery_url = property(lambda self: self.webhook.delivery_url)
    secret = property(lambda self: self.webhook.secret)

    @property
    def status(self) -> str:
        return self.webhook.status

    @status.setter
    def status(self, value: str) -> None:
        self.webhook.status = value

    @property
    def failure_count(self) -> int:
        return self.webhook.failure_count

    @failure_count.setter
    def failure_count(self, value: int) -> None:
        self.webhook.failure_count = value

    # ----------------------------------------------------------------- sending
    def build_request(self, topic: str, payload: Any) -> tuple[bytes, dict[str, str], str]:
        body = payload if isinstance(payload, bytes) else php_json_encode(payload)
        resource, _, event = topic.partition(".")
        did = delivery_id(self.webhook_id, int(self.clock()), self.auth_salt)
        headers = {
            "User-Agent": self.user_agent,
            "Content-Type": "application/json",
            # Added after the woocommerce_webhook_http_args filter, always in this order.
            "X-WC-Webhook-Source": self.source_url,
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": sign(self.secret, body),
            "X-WC-Webhook-ID": str(self.webhook_id),
            "X-WC-Webhook-Delivery-ID": did,
        }
        return body, headers, did

    async def send(self, topic: str, payload: Any, arg: Any = None) -> int | None:
        """An event for this webhook: nothing is sent unless the webhook is active."""
        if self.status != "active":
            return None
        return await self.deliver(topic, payload, arg)

    async def deliver(self, topic: str, payload: Any, arg: Any = None) -> int:
        """WC_Webhook::deliver(): one POST, no status re-check, no retry. Returns the HTTP
        status code, or 0 when the request failed (timeout, refused connection, ...)."""
        body, headers, did = self.build_request(topic, payload)
        try:
            response = await self._post(body, headers, DELIVERY_TIMEOUT, follow_redirects=False)
            code = response.status_code
        except httpx.HTTPError:
            code = 0
        self.history.append(Delivery(self.webhook_id, topic, arg, code, did, body, headers))
        await self._log_delivery(code)
        return code

    async def _log_delivery(self, code: int) -> None:
        """log_delivery() / failed_delivery(): success is 200..302 inclusive."""
        if 200 <= code < 303:
            self.failure_count = 0
        elif self.failure_count > MAX_FAILURES:
            self.status = "disabled"  # the 7th consecutive failure
        else:
            self.failure_count += 1
        if self.ping_after_save and self.webhook.pending_delivery and self.status == "active":
            await self.send_ping()

    async def send_ping(self) -> int:
        """WC_Webhook::deliver_ping(): unsigned form body, only a User-Agent, no X-WC headers.
        Only 200 counts; it clears pending_delivery."""
        headers = {"User-Agent": self.user_agent,
                   "Content-Type": "application/x-www-form-urlencoded"}
        body = f"webhook_id={self.webhook_id}".encode()
        try:
            response = await self._post(body, headers, PING_TIMEOUT, follow_redirects=True)
            code = response.status_code
        except httpx.HTTPError:
            code = 0
        if code == 200:
            self.webhook.pending_delivery = False
        self.pings.append(code)
        return code

    async def _post(self, body: bytes, headers: dict[str, str], timeout: float,
                    follow_redirects: bool) -> httpx.Response:
        if self.client is not None:
            return await self.client.post(self.delivery_url, content=body, headers=headers,
                                          timeout=timeout, follow_redirects=follow_redirects)
        async with httpx.AsyncClient() as client:
            return await client.post(self.delivery_url, content=body, headers=headers,
                                     timeout=timeout, follow_redirects=follow_redirects)


SenderFactory = Callable[[Webhook], WebhookSender]


def make_sender_factory(source_url: str, *, client: httpx.AsyncClient | None = None,
                        **kwargs: Any) -> SenderFactory:
    """A factory binding each store webhook to a sender that shares its state."""
    def factory(webhook: Webhook) -> WebhookSender:
        return WebhookSender.for_webhook(webhook, source_url, client=client, **kwargs)
    return factory


@dataclass
class _Pending:
    sender: WebhookSender
    topic: str
    arg: Any


@dataclass
class Queue:
    """Action Scheduler's ``woocommerce_deliver_webhook_async`` actions, coalesced.

    ``add`` is wc_webhook_process_delivery + wc_webhook_execute_queue: a webhook that is not
    active is not loaded (nothing queued), and an already pending (webhook, arg) action is not
    added twice. ``run`` is the runner: payloads are built *now*, and queued actions still go
    out even if the webhook was paused or disabled meanwhile (deliver() does not re-check).
    """

    build_payload: Callable[[str, Any], Any] | None = None
    pending: dict[tuple[int, Any], _Pending] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    senders: dict[int, WebhookSender] = field(default_factory=dict)
    attached_to: Store | None = None

    def add(self, sender: WebhookSender, topic: str, arg: Any) -> bool:
        if sender.status != "active":
            return False
        key = (sender.webhook_id, arg)
        if key in self.pending:
            return False
        self.pending[key] = _Pending(sender, topic, arg)
        return True

    def attach(self, store: Store, sender_factory: SenderFactory) -> "Queue":
        """Queue a delivery for every active store webhook whose topic the store emits."""
        if self.attached_to is not None:
            raise RuntimeError("this queue is already attached to a store")
        self.attached_to = store
        if self.build_payload is None:
            self.build_payload = store.delivery_payload

        def on_event(topic: str, arg: Any) -> None:
            for hook in store.webhooks_for(topic):
                sender = self.senders.get(hook.id)
                if sender is None or sender.webhook is not hook:
                    sender = self.senders[hook.id] = sender_factory(hook)
                self.add(sender, topic, arg)

        store.subscribe(on_event)
        return self

    def __len__(self) -> int:
        return len(self.pending)

    async def run(self) -> list[Delivery]:
        """Run every pending action (in queue order); returns the deliveries made."""
        if self.build_payload is None:
            raise RuntimeError("Queue needs build_payload (or attach(store, ...))")
        batch, self.pending = list(self.pending.values()), {}
        made = []
        for item in batch:
            payload = self.build_payload(item.topic, item.arg)
            await item.sender.deliver(item.topic, payload, item.arg)
            made.append(item.sender.history[-1])
        self.deliveries.extend(made)
        return made

    def summary(self) -> dict[str, Any]:
        return {"deliveries": len(self.deliveries),
                "by_topic": dict(Counter(d.topic for d in self.deliveries)),
                "status_codes": dict(Counter(d.status_code for d in self.deliveries))}
