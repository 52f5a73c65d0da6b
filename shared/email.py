"""The email every channel adapter sends and every fake records: one MIME shape (text and HTML
alternatives, our Message-ID, the caller's extra headers), built from plain values."""
from __future__ import annotations

from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime


def build_email(*, from_address: str, message_id: str, to: str, subject: str, text: str, html: str,
                headers: dict[str, str] | None = None, date: datetime | None = None) -> EmailMessage:
    """`message_id` becomes `<id@aftercart>`: a resend of the same message carries the same one."""
    msg = EmailMessage()
    msg["From"] = from_address
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime.now(timezone.utc))
    msg["Message-ID"] = f"<{message_id}@aftercart>"
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg
