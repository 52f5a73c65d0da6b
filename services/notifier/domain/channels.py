"""The channels a message can go out on, behind one interface (pure: the interface and what a
webhook delivery carries; the adapters that do the I/O are adapters/email_channel.py and
adapters/webhook_channel.py).

    channel = channels[message.channel]          # "email" | "webhook"
    await channel.deliver(message, store)        # raises shared.errors.SendRefused(temporary=...)

Every channel says a failure the same way — SendRefused, temporary or permanent — so the sending
use case retries temporary ones with its backoff rule (domain/delivery.py retry_delay) and fails
permanent ones, whatever the channel. A channel takes the message as recorded (rendered at
handler time, so a retry repeats it byte for byte) and the store's settings (its From / Reply-To,
its webhook URL and secret), read when the message is sent so a store's change applies at once.

The webhook body follows the Standard Webhooks payload shape, `{"type", "timestamp", "data"}`:
the type is "message.<flow>", data what a gateway (SMS, chat, push) needs to pass the message on.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Protocol

import orjson

if TYPE_CHECKING:
    from services.notifier.domain.delivery import StoredMessage
    from services.notifier.domain.store_settings import StoreSettings

EMAIL, WEBHOOK = "email", "webhook"


class Channel(Protocol):
    name: str

    async def deliver(self, message: StoredMessage, store: StoreSettings) -> None:
        """Hand `message` over; raises SendRefused (temporary or not) when it wasn't accepted."""
        ...

    async def close(self) -> None:
        """Let go of open connections (the sender's shutdown)."""
        ...


Channels = Mapping[str, Channel]


def webhook_event_type(message: StoredMessage) -> str:
    return f"message.{message.flow or message.template}"


def webhook_body(message: StoredMessage, at: datetime) -> bytes:
    """The JSON body of a webhook delivery of `message`: the same bytes for the same message and
    time (sorted keys), so what was signed is what is sent."""
    data = {
        "message_id": message.message_id,
        "flow": message.flow or message.template,
        "template": message.template,
        "store_id": message.store_id,
        "customer_key": message.customer_key,
        "cause_event_id": message.cause_event_id,
        "cause_type": message.cause_type,
        "locale": message.locale,
        "to": message.to_address,
        "subject": message.subject,
        "text": message.body_text,
    }
    payload = {"type": webhook_event_type(message),
               "timestamp": at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"), "data": data}
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


def webhook_status_refusal(status: int) -> tuple[bool, bool]:
    """(accepted, temporary) for a receiver's HTTP status: 2xx accepted; 408, 425, 429 and 5xx
    are worth another try; any other answer (3xx — redirects are not followed —, 4xx) will not
    change by itself."""
    if 200 <= status < 300:
        return True, False
    return False, status in (408, 425, 429) or status >= 500
