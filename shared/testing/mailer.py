"""FakeMailer: SmtpMailer's interface (build, send), recording messages instead of sending them.
Told to refuse, it raises the same SendRefused the real adapter raises for that SMTP reply.

    mailer = FakeMailer(); mailer.refuse(451)   # the next send is refused as temporary
"""
from __future__ import annotations

from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime

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
        if self._refusals:
            code = self._refusals.pop(0)
            raise SendRefused(f"SMTP {code}", temporary=400 <= code < 500, code=code)
        self.sent.append(msg)
