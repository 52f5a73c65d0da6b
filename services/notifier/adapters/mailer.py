"""SmtpMailer: sends one message over real SMTP (aiosmtplib) to the configured relay, and says
what kind of failure a refusal is, so the sending use case never reads SMTP codes.

Every failure leaves `send` as shared.errors.SendRefused: `temporary` for 4xx replies, a refused
connection, timeouts and TLS trouble (the relay may come back), permanent for 5xx replies; a
refusal of all recipients is temporary only if every one of them was refused with a 4xx.

The Message-ID is derived from the message id, so if the tiny window between "SMTP accepted"
and "marked sent" is ever hit, the repeat carries the same Message-ID and mail systems can
collapse it.
"""
from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from shared.email import build_email
from shared.errors import SendRefused


class SmtpMailer:
    def __init__(self, host: str, port: int, *, from_address: str, use_tls: bool = False,
                 starttls: bool = False, username: str | None = None, password: str | None = None,
                 timeout_s: float = 10.0) -> None:
        self.host, self.port, self.from_address = host, port, from_address
        self.use_tls, self.starttls, self.timeout_s = use_tls, starttls, timeout_s
        self.username, self.password = username, password

    def build(self, *, message_id: str, to: str, subject: str, text: str, html: str,
              headers: dict[str, str] | None = None) -> EmailMessage:
        return build_email(from_address=self.from_address, message_id=message_id, to=to, subject=subject,
                           text=text, html=html, headers=headers)

    async def send(self, msg: EmailMessage) -> None:
        """Raises SendRefused for every failure."""
        try:
            await aiosmtplib.send(msg, hostname=self.host, port=self.port, use_tls=self.use_tls,
                                  start_tls=self.starttls if self.starttls else False,
                                  username=self.username, password=self.password, timeout=self.timeout_s)
        except Exception as exc:  # anything but a reply code is the relay or the network: try again later
            raise refusal(exc) from exc


def refusal(exc: Exception) -> SendRefused:
    """The SendRefused for an aiosmtplib (or network) failure. Its message names the error class and
    code only: never an address (the recipients' are in SMTPRecipientsRefused)."""
    code = getattr(exc, "code", None)
    message = f"{type(exc).__name__}: {code if code is not None else ''}".strip()
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return SendRefused(message, temporary=400 <= exc.code < 500, code=exc.code)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return SendRefused(message, temporary=all(400 <= c < 500 for c in codes),
                           code=max(codes) if codes else None)
    return SendRefused(message, temporary=True)
