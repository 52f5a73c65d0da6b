"""FakeMailer: SmtpMailer's interface (build, send), recording messages instead of sending them.
Told to refuse, it raises the same SendRefused the real adapter raises for that SMTP reply.

    mailer = FakeMailer(); mailer.refuse(451)   # the next send is refused as temporary
"""
from __future__ import annotations

from email.message import EmailMessage

from shared.email import build_email
from shared.errors import SendRefused


class FakeMailer:
    def __init__(self, from_address: str = "Aftercart <hello@aftercart.local>") -> None:
        self.from_address = from_address
        self.sent: list[EmailMessage] = []
        self._refusals: list[int] = []

    def refuse(self, code: int, times: int = 1) -> None:
        """Refuse the next `times` sends with SMTP reply `code` (4xx temporary, 5xx permanent)."""
        self._refusals.extend([code] * times)

    def build(self, *, message_id: str, to: str, subject: str, text: str, html: str,
              headers: dict[str, str] | None = None, from_address: str | None = None,
              reply_to: str | None = None) -> EmailMessage:
        extra = dict(headers or {})
        if reply_to:
            extra["Reply-To"] = reply_to
        return build_email(from_address=from_address or self.from_address, message_id=message_id, to=to,
                           subject=subject, text=text, html=html, headers=extra)

    async def send(self, msg: EmailMessage) -> None:
        if self._refusals:
            code = self._refusals.pop(0)
            raise SendRefused(f"SMTP {code}", temporary=400 <= code < 500, code=code)
        self.sent.append(msg)
