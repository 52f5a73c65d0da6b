"""The email every channel adapter sends and every fake records: one MIME shape (text and HTML
alternatives, our Message-ID, the caller's extra headers), built from plain values.

`email_bytes` writes that shape straight to bytes (UTF-8 bodies in base64, non-ASCII
headers RFC 2047-encoded): about a millisecond, where building and flattening an EmailMessage
costs ten or more (the email package parses every header it is given, and encodes bodies in pure
Python) — at hundreds of emails a second that was the sender's whole CPU. `RawEmail` carries those
bytes with their envelope to SMTP; `build_email` is the same bytes read back as an EmailMessage
(what fakes and tests inspect), so real and fake send one shape.
"""
from __future__ import annotations

import binascii
import email
import email.policy
import re
from datetime import datetime, timezone
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses, parseaddr
from functools import cached_property


def _one_line(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:  # a header injection: refused, never folded into the mail
        raise ValueError(f"line break in {name}")
    return value


def _address(name: str, value: str) -> str:
    value = _one_line(name, value)
    if value.isascii():
        return value
    display, addr = parseaddr(value)
    return formataddr((display, addr), charset="utf-8") if addr else Header(value, "utf-8").encode()


def _text(name: str, value: str) -> str:
    value = _one_line(name, value)
    return value if value.isascii() else Header(value, "utf-8").encode()


def _part(subtype: str, body: str) -> bytes:
    flat = binascii.b2a_base64(body.encode("utf-8"), newline=False)
    encoded = b"\r\n".join([flat[i:i + 76] for i in range(0, len(flat), 76)]) + b"\r\n"  # MIME's 76-char lines
    return (f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n").encode() + encoded


_ADDRESS_HEADERS = {"from", "to", "cc", "reply-to", "sender"}


def email_bytes(*, from_address: str, message_id: str, to: str, subject: str, text: str, html: str,
                headers: dict[str, str] | None = None, date: datetime | None = None) -> bytes:
    """The whole message, CRLF line ends. Raises ValueError for a line break in any header."""
    # Base64 has no "_": a boundary with one never occurs in a body.
    boundary = "=_aftercart_alternative"
    head = [("From", _address("From", from_address)), ("To", _address("To", to)),
            ("Subject", _text("Subject", subject)),
            ("Date", format_datetime(date or datetime.now(timezone.utc))),
            ("Message-ID", f"<{_one_line('Message-ID', message_id)}@aftercart>")]
    for k, v in (headers or {}).items():
        if not k.isascii() or not k.replace("-", "").isalnum():
            raise ValueError("not a header name")
        head.append((k, _address(k, v) if k.lower() in _ADDRESS_HEADERS else _text(k, v)))
    head += [("MIME-Version", "1.0"), ("Content-Type", f'multipart/alternative; boundary="{boundary}"')]
    return b"".join((
        "".join(f"{k}: {v}\r\n" for k, v in head).encode("ascii"),
        f"\r\n--{boundary}\r\n".encode(), _part("plain", text),
        f"\r\n--{boundary}\r\n".encode(), _part("html", html),
        f"\r\n--{boundary}--\r\n".encode()))


_PLAIN = re.compile(r"[^\s<>,;:\"()\[\]@]+@[^\s<>,;:\"()\[\]@]+\Z")
_NAMED = re.compile(r"[^<>,;:\"()\[\]@]*<([^\s<>,;:\"()\[\]@]+@[^\s<>,;:\"()\[\]@]+)>\s*\Z")


def address_of(value: str) -> str:
    """The bare address of `local@domain` or `Name <local@domain>` without the email package's
    general parser (a millisecond a call); anything else goes to that parser."""
    if _PLAIN.match(value):
        return value
    if m := _NAMED.match(value):
        return m.group(1)
    return parseaddr(value)[1]


class RawEmail:
    """A built message as bytes plus its SMTP envelope (sender, recipients); reads as an
    EmailMessage when asked (`msg["To"]`, `msg.get_body(...)`), parsed only then."""

    def __init__(self, data: bytes, from_address: str, to: str) -> None:
        self.data = data
        self.sender = address_of(from_address)
        self.recipients = [address_of(to)] if "," not in to else [a for _, a in getaddresses([to]) if a]

    @cached_property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)

    def __getitem__(self, name: str):
        return self.message[name]

    def __getattr__(self, name: str):  # items(), get(), iter_parts(), get_body()…
        if name in ("data", "sender", "recipients", "message"):
            raise AttributeError(name)
        return getattr(self.message, name)


def raw_email(*, from_address: str, message_id: str, to: str, subject: str, text: str, html: str,
              headers: dict[str, str] | None = None, date: datetime | None = None) -> RawEmail:
    return RawEmail(email_bytes(from_address=from_address, message_id=message_id, to=to, subject=subject,
                                text=text, html=html, headers=headers, date=date), from_address, to)


def build_email(*, from_address: str, message_id: str, to: str, subject: str, text: str, html: str,
                headers: dict[str, str] | None = None, date: datetime | None = None) -> EmailMessage:
    """`message_id` becomes `<id@aftercart>`: a resend of the same message carries the same one."""
    return raw_email(from_address=from_address, message_id=message_id, to=to, subject=subject, text=text,
                     html=html, headers=headers, date=date).message
