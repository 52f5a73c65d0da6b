"""SmtpMailer's side of the contract, without a server: how each SMTP failure is classified (the
use case only reads `temporary`), and FakeMailer building exactly the message SmtpMailer builds."""
from __future__ import annotations

import asyncio
import ssl

import aiosmtplib
import pytest

from services.notifier.adapters.mailer import SmtpMailer, refusal
from shared.errors import SendRefused
from shared.testing import FakeMailer

RCPT = "ana@example.com"


@pytest.mark.parametrize("exc,temporary,code,message", [
    (aiosmtplib.SMTPResponseException(451, "try later"), True, 451, "SMTPResponseException: 451"),
    (aiosmtplib.SMTPRecipientRefused(450, "mailbox busy", RCPT), True, 450, "SMTPRecipientRefused: 450"),
    (aiosmtplib.SMTPSenderRefused(421, "closing", "hello@aftercart.local"), True, 421, "SMTPSenderRefused: 421"),
    (aiosmtplib.SMTPResponseException(550, "no such user"), False, 550, "SMTPResponseException: 550"),
    (aiosmtplib.SMTPDataError(554, "rejected"), False, 554, "SMTPDataError: 554"),
    (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), False, 535, "SMTPAuthenticationError: 535"),
    (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(451, "later", RCPT),
                                       aiosmtplib.SMTPRecipientRefused(452, "full", "b@example.com")]),
     True, 452, "SMTPRecipientsRefused:"),
    (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(451, "later", RCPT),
                                       aiosmtplib.SMTPRecipientRefused(550, "unknown", "b@example.com")]),
     False, 550, "SMTPRecipientsRefused:"),
    (aiosmtplib.SMTPConnectError("connection refused"), True, None, "SMTPConnectError:"),
    (aiosmtplib.SMTPServerDisconnected("gone"), True, None, "SMTPServerDisconnected:"),
    (aiosmtplib.SMTPReadTimeoutError("slow"), True, None, "SMTPReadTimeoutError:"),
    (asyncio.TimeoutError(), True, None, "TimeoutError:"),
    (ConnectionRefusedError(111, "refused"), True, None, "ConnectionRefusedError:"),
    (ssl.SSLError("handshake"), True, None, "SSLError:"),
])
def test_refusals_are_classified_by_the_adapter(exc, temporary, code, message):
    r = refusal(exc)
    assert (r.temporary, r.code, str(r)) == (temporary, code, message)
    assert RCPT not in str(r)  # it becomes last_error, a log field and message.failed's error


def test_fake_mailer_builds_what_smtp_mailer_builds():
    args = dict(message_id="m-1", to=RCPT, subject="Hi", text="text", html="<p>html</p>",
                headers={"X-Aftercart-Template": "order_thanks"})
    real = SmtpMailer("127.0.0.1", 1, from_address="Shop <shop@example.com>").build(**args)
    fake = FakeMailer(from_address="Shop <shop@example.com>").build(**args)
    keep = lambda m: [(k, v) for k, v in m.items() if k != "Date"]  # noqa: E731 - Date is "now"
    assert keep(real) == keep(fake)
    assert real["Message-ID"] == "<m-1@aftercart>" and real["X-Aftercart-Template"] == "order_thanks"
    assert [p.get_content_type() for p in real.iter_parts()] == [p.get_content_type() for p in fake.iter_parts()] \
        == ["text/plain", "text/html"]


async def test_fake_mailer_refuses_like_the_relay():
    mailer = FakeMailer()
    mailer.refuse(451)
    mailer.refuse(550)
    msg = mailer.build(message_id="m", to=RCPT, subject="s", text="t", html="h")
    with pytest.raises(SendRefused) as temp:
        await mailer.send(msg)
    with pytest.raises(SendRefused) as perm:
        await mailer.send(msg)
    assert (temp.value.temporary, temp.value.code) == (True, 451)
    assert (perm.value.temporary, perm.value.code) == (False, 550)
    await mailer.send(msg)
    assert mailer.sent == [msg]
