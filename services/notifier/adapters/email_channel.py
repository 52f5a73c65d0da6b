"""EmailChannel: the email channel (domain/channels.py) over a mailer (SmtpMailer's pool, or
FakeMailer in unit tests): the recorded message becomes a multipart email from the store — its
From (named for the store when the address carries no name) and Reply-To — with the message's
stable Message-ID and our tracing headers, then goes to the relay.

A message that can't be built (a line break inside an address: the email package refuses the
header injection) never will be: that is a permanent SendRefused "unbuildable: …", so it fails
instead of staying first in line.
"""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from typing import Protocol

from services.notifier.domain.channels import EMAIL
from services.notifier.domain.delivery import StoredMessage
from services.notifier.domain.store_settings import StoreSettings
from shared.email import RawEmail
from shared.errors import SendRefused


class Mailer(Protocol):
    """SmtpMailer's interface (and FakeMailer's): `build` gives what `send` takes (SmtpMailer's
    bytes with their envelope, FakeMailer's EmailMessage); `send` raises SendRefused for every failure."""

    def build(self, *, message_id: str, to: str, subject: str, text: str, html: str,
              headers: dict[str, str] | None = None, from_address: str | None = None,
              reply_to: str | None = None) -> EmailMessage | RawEmail: ...

    async def send(self, msg: EmailMessage | RawEmail) -> None: ...


def sender_of(store: StoreSettings) -> str:
    """The From header: the store's address, given the store's name when it has none of its own."""
    name, address = parseaddr(store.from_address)
    if not name and store.store_name and address:
        return formataddr((store.store_name, address))
    return store.from_address


def email_for(mailer: Mailer, message: StoredMessage, store: StoreSettings) -> EmailMessage | RawEmail:
    headers = {"X-Aftercart-Message-Id": message.message_id, "X-Aftercart-Template": message.template,
               "X-Aftercart-Store": message.store_id}
    headers.update(message.headers or {})  # gating's, e.g. a marketing message's List-Unsubscribe
    return mailer.build(message_id=message.message_id, to=message.to_address, subject=message.subject,
                        text=message.body_text, html=message.body_html, headers=headers,
                        from_address=sender_of(store), reply_to=store.reply_to or store.support_email)


class EmailChannel:
    name = EMAIL

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    async def deliver(self, message: StoredMessage, store: StoreSettings) -> None:
        try:
            email = email_for(self.mailer, message, store)
        except (ValueError, TypeError) as exc:
            raise SendRefused(f"unbuildable: {type(exc).__name__}", temporary=False) from exc
        await self.mailer.send(email)

    async def close(self) -> None:
        """Close the mailer's pooled connections (FakeMailer has none)."""
        close = getattr(self.mailer, "close", None)
        if close is not None:
            await close()
