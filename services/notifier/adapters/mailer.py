"""SmtpMailer: sends messages over real SMTP (aiosmtplib) to the configured relay through a POOL of
open connections, and says what kind of failure a refusal is, so the sending use case never reads
SMTP codes.

The pool: at most `pool_size` connections, each opened on first need (implicit TLS or STARTTLS,
then AUTH when credentials are set) and handed back after a message, so a busy sender pays the
TCP + TLS + EHLO + AUTH round trips once per connection instead of once per message. Concurrent
`send`s each take their own connection (an SMTP session carries one envelope at a time). A
connection the server closed while it idled, one idle past `idle_s` (relays drop quiet sessions),
or one whose send failed other than by a reply code is thrown away and the next send opens a new
one: reconnecting is the pool's job, never the caller's. A failed send is NOT re-sent here — the
relay may have accepted it before the connection broke — the sending use case retries it with
backoff, and the repeat carries the same Message-ID.

Every failure leaves `send` as shared.errors.SendRefused: `temporary` for 4xx replies, a refused
connection, timeouts and TLS trouble (the relay may come back), permanent for 5xx replies; a
refusal of all recipients is temporary only if every one of them was refused with a 4xx.

The Message-ID is derived from the message id, so if the tiny window between "SMTP accepted"
and "marked sent" is ever hit, the repeat carries the same Message-ID and mail systems can
collapse it. From and Reply-To are the store's when its settings name them (`build`'s
`from_address` / `reply_to`), else the service's `from_address`.
"""
from __future__ import annotations

import asyncio
import time
from email.message import EmailMessage

import aiosmtplib

from shared.email import RawEmail, raw_email
from shared.errors import SendRefused


class SmtpMailer:
    def __init__(self, host: str, port: int, *, from_address: str, use_tls: bool = False,
                 starttls: bool = False, username: str | None = None, password: str | None = None,
                 timeout_s: float = 10.0, pool_size: int = 4, idle_s: float = 30.0,
                 validate_certs: bool = True, cert_bundle: str | None = None) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self.host, self.port, self.from_address = host, port, from_address
        self.use_tls, self.starttls, self.timeout_s = use_tls, starttls, timeout_s
        self.username, self.password = username, password
        self.validate_certs, self.cert_bundle = validate_certs, cert_bundle
        self.pool_size, self.idle_s = pool_size, idle_s
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # (connection, when it was handed back)
        self._slots: asyncio.Semaphore | None = None  # made on first send: inside the running loop
        self.connections_opened = 0  # how many SMTP sessions this mailer has opened (tests, bench)

    def build(self, *, message_id: str, to: str, subject: str, text: str, html: str,
              headers: dict[str, str] | None = None, from_address: str | None = None,
              reply_to: str | None = None) -> RawEmail:
        """The message as bytes with its envelope (shared/email.py: the email package's objects
        cost ten times more CPU to build and flatten); it still reads like an EmailMessage."""
        extra = dict(headers or {})
        if reply_to:
            extra["Reply-To"] = reply_to
        return raw_email(from_address=from_address or self.from_address, message_id=message_id, to=to,
                         subject=subject, text=text, html=html, headers=extra)

    async def send(self, msg: RawEmail | EmailMessage) -> None:
        """Send `msg` on a pooled connection. Raises SendRefused for every failure."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.pool_size)
        async with self._slots:
            client: aiosmtplib.SMTP | None = None
            try:
                client = self._reusable() or await self._connect()
                if isinstance(msg, RawEmail):
                    utf8 = not (msg.sender + "".join(msg.recipients)).isascii()
                    await client.sendmail(msg.sender, msg.recipients, msg.data,
                                          mail_options=["SMTPUTF8"] if utf8 else None)
                else:
                    await client.send_message(msg)
            except Exception as exc:  # anything but a reply code is the relay or the network: try again later
                if client is not None:
                    if _still_usable(client, exc):
                        self._idle.append((client, time.monotonic()))
                    else:
                        client.close()
                raise refusal(exc) from exc
            self._idle.append((client, time.monotonic()))

    async def close(self) -> None:
        """QUIT every idle connection (the sender's shutdown); a relay that doesn't answer within
        a couple of seconds is just hung up on."""
        idle, self._idle = self._idle, []
        for client, _ in idle:
            try:
                await client.quit(timeout=min(self.timeout_s, 2.0))
            except Exception:  # already gone: nothing to say goodbye to
                client.close()

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    def _reusable(self) -> aiosmtplib.SMTP | None:
        """The most recently used idle connection that is still open and fresh; stale ones are closed."""
        while self._idle:
            client, since = self._idle.pop()
            if client.is_connected and time.monotonic() - since < self.idle_s:
                return client
            client.close()
        return None

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(hostname=self.host, port=self.port, use_tls=self.use_tls,
                                 start_tls=True if self.starttls else False, username=self.username,
                                 password=self.password, timeout=self.timeout_s,
                                 validate_certs=self.validate_certs, cert_bundle=self.cert_bundle)
        await client.connect()  # TLS or STARTTLS, EHLO and AUTH as configured
        self.connections_opened += 1
        return client


def _still_usable(client: aiosmtplib.SMTP, exc: Exception) -> bool:
    """After a refusal by reply code aiosmtplib has reset the envelope (RSET): the session carries
    on, unless the server is closing it (421) or already has."""
    refused = isinstance(exc, (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused))
    closing = isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == 421
    return refused and not closing and client.is_connected


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
