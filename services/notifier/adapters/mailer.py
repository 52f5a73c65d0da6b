"""SmtpMailer: sends one message over real SMTP (aiosmtplib) to the configured relay.

The Message-ID is derived from the message id, so if the tiny window between "SMTP accepted"
and "marked sent" is ever hit, the repeat carries the same Message-ID and mail systems can
collapse it.
"""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timezone

import aiosmtplib


class SmtpMailer:
    def __init__(self, host: str, port: int, *, from_address: str, use_tls: bool = False,
                 starttls: bool = False, username: str | None = None, password: str | None = None,
                 timeout_s: float = 10.0) -> None:
        self.host, self.port, self.from_address = host, port, from_address
        self.use_tls, self.starttls, self.timeout_s = use_tls, starttls, timeout_s
        self.username, self.password = username, password

    def build(self, *, message_id: str, to: str, subject: str, text: str, html: str,
              headers: dict[str, str] | None = None) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.from_address
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(datetime.now(timezone.utc))
        msg["Message-ID"] = f"<{message_id}@aftercart>"
        for k, v in (headers or {}).items():
            msg[k] = v
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        return msg

    async def send(self, msg: EmailMessage) -> None:
        await aiosmtplib.send(msg, hostname=self.host, port=self.port, use_tls=self.use_tls,
                              start_tls=self.starttls if self.starttls else False,
                              username=self.username, password=self.password, timeout=self.timeout_s)
