"""SmtpMailer's connection pool against real SMTP servers: the local stack's SMTP sink, and aiosmtpd
servers started here for what the sink doesn't do (implicit TLS, STARTTLS, AUTH, dropping a
session). What is asserted is what a relay sees: how many SMTP sessions carried the messages,
that every message arrived whole, and with the same Message-ID on a repeat."""
from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from email import message_from_bytes

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.notifier.adapters.mailer import SmtpMailer
from shared.errors import SendRefused

USER, PASSWORD = "shop", "s3cret-pass"


class Recorder:
    """An aiosmtpd handler keeping each message with the session (client port) that carried it;
    `refuse` makes RCPT answer with a code for the next recipients; `drop_all` hangs up on every
    session (a relay closing idle connections)."""

    def __init__(self) -> None:
        self.messages: list[tuple[tuple, bytes]] = []
        self.refuse: list[int] = []
        self.hang_up_on_data = 0  # hang up on this many sessions at DATA, before answering
        self.auth: list[bytes] = []
        self._servers: list = []
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            code = self.refuse.pop(0)
            return f"{code} {'try later' if code < 500 else 'no such user'}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hang_up_on_data:
            self.hang_up_on_data -= 1
            server.transport.close()
            return "421 closing"  # never reaches the client: the connection is gone
        with self._lock:
            self.messages.append((session.peer, envelope.content))
            self._servers.append(server)
        return "250 Message accepted"

    def sessions(self) -> set[tuple]:
        return {peer for peer, _ in self.messages}

    def drop_all(self, loop: asyncio.AbstractEventLoop) -> None:
        for server in self._servers:
            loop.call_soon_threadsafe(server.transport.close)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (it is its own CA: the client trusts this file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return str(folder / "cert.pem"), str(folder / "key.pem")


def _server_context(tls_files) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*tls_files)
    return ctx


def _authenticator(recorder: Recorder):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USER.encode(), PASSWORD.encode())
        recorder.auth.append(auth_data.login if isinstance(auth_data, LoginPassword) else b"?")
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself
    return check


@pytest.fixture
def relay(request, tls_files):
    """An aiosmtpd relay: "plain", "starttls" (STARTTLS and AUTH required) or "tls" (implicit TLS, AUTH)."""
    mode = request.param
    recorder = Recorder()
    kwargs: dict = {}
    if mode == "starttls":
        kwargs = dict(tls_context=_server_context(tls_files), require_starttls=True,
                      authenticator=_authenticator(recorder), auth_required=True)
    elif mode == "tls":
        # aiosmtpd doesn't count implicit TLS as TLS for AUTH: the whole session is TLS here anyway.
        kwargs = dict(ssl_context=_server_context(tls_files), authenticator=_authenticator(recorder),
                      auth_required=True, auth_require_tls=False)
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port(), **kwargs)
    controller.start()
    yield mode, controller, recorder
    controller.stop()


def _mailer(mode: str, controller, tls_files, **over) -> SmtpMailer:
    options = dict(from_address="Shop <shop@example.com>", timeout_s=10.0, cert_bundle=tls_files[0])
    if mode == "starttls":
        options.update(starttls=True, username=USER, password=PASSWORD)
    elif mode == "tls":
        options.update(use_tls=True, username=USER, password=PASSWORD)
    options.update(over)
    return SmtpMailer("127.0.0.1", controller.port, **options)


def _email(mailer: SmtpMailer, n: int | str, to: str = "ana@example.com"):
    return mailer.build(message_id=f"m-{n}", to=to, subject=f"Order {n}", text=f"text {n}", html=f"<p>html {n}</p>")


@pytest.mark.parametrize("relay", ["plain", "starttls", "tls"], indirect=True)
async def test_one_session_carries_many_messages_over_tls_starttls_and_auth(relay, tls_files):
    mode, controller, recorder = relay
    mailer = _mailer(mode, controller, tls_files)
    for n in range(12):
        await mailer.send(_email(mailer, n))
    assert len(recorder.messages) == 12
    assert len(recorder.sessions()) == 1 and mailer.connections_opened == 1
    assert [message_from_bytes(raw)["Message-ID"] for _, raw in recorder.messages] == [
        f"<m-{n}@aftercart>" for n in range(12)]
    if mode != "plain":
        assert recorder.auth == [USER.encode()]  # authenticated once, for the one session
    await mailer.close()
    assert mailer.idle_connections == 0


@pytest.mark.parametrize("relay", ["starttls"], indirect=True)
async def test_wrong_credentials_are_a_permanent_refusal(relay, tls_files):
    mode, controller, recorder = relay
    mailer = _mailer(mode, controller, tls_files, password="wrong")
    with pytest.raises(SendRefused) as refused:
        await mailer.send(_email(mailer, 1))
    assert (refused.value.temporary, refused.value.code) == (False, 535)
    assert recorder.messages == [] and mailer.idle_connections == 0


@pytest.mark.parametrize("relay", ["tls"], indirect=True)
async def test_an_untrusted_certificate_is_refused_not_ignored(relay, tls_files):
    mode, controller, recorder = relay
    mailer = _mailer(mode, controller, tls_files, cert_bundle=None)  # system CAs don't know it
    with pytest.raises(SendRefused) as refused:
        await mailer.send(_email(mailer, 1))
    assert refused.value.temporary is True and recorder.messages == []


@pytest.mark.parametrize("relay", ["plain"], indirect=True)
async def test_concurrent_sends_share_at_most_pool_size_sessions(relay, tls_files):
    mode, controller, recorder = relay
    mailer = _mailer(mode, controller, tls_files, pool_size=3)
    await asyncio.gather(*(mailer.send(_email(mailer, n)) for n in range(30)))
    assert len(recorder.messages) == 30
    assert sorted(message_from_bytes(raw)["Subject"] for _, raw in recorder.messages) == sorted(
        f"Order {n}" for n in range(30))
    assert 1 <= len(recorder.sessions()) <= 3 and mailer.connections_opened <= 3
    await mailer.close()


@pytest.mark.parametrize("relay", ["plain"], indirect=True)
async def test_a_session_the_relay_dropped_is_replaced(relay, tls_files):
    mode, controller, recorder = relay
    mailer = _mailer(mode, controller, tls_files)
    await mailer.send(_email(mailer, 1))
    recorder.drop_all(controller.loop)
    for _ in range(200):  # until this side has seen the hang-up (bounded; no timing asserted)
        if mailer.idle_connections == 0 or not mailer._idle[0][0].is_connected:
            break
        await asyncio.sleep(0.01)
    await mailer.send(_email(mailer, 2))
    assert len(recorder.messages) == 2 and len(recorder.sessions()) == 2 and mailer.connections_opened == 2
    await mailer.close()


@pytest.mark.parametrize("relay", ["plain"], indirect=True)
async def test_an_idle_session_past_idle_s_is_reopened(relay, tls_files):
    mode, controller, recorder = relay
    mailer = _mailer(mode, controller, tls_files, idle_s=0.0)
    for n in range(3):
        await mailer.send(_email(mailer, n))
    assert len(recorder.messages) == 3 and mailer.connections_opened == 3
    await mailer.close()


@pytest.mark.parametrize("relay", ["plain"], indirect=True)
async def test_a_refused_recipient_keeps_the_session_and_says_which_kind(relay, tls_files):
    mode, controller, recorder = relay
    mailer = _mailer(mode, controller, tls_files)
    recorder.refuse = [550]
    with pytest.raises(SendRefused) as permanent:
        await mailer.send(_email(mailer, 1, to="nobody@example.com"))
    assert (permanent.value.temporary, permanent.value.code) == (False, 550)
    assert "nobody@example.com" not in str(permanent.value)
    recorder.refuse = [451]
    with pytest.raises(SendRefused) as temporary:
        await mailer.send(_email(mailer, 2))
    assert (temporary.value.temporary, temporary.value.code) == (True, 451)
    await mailer.send(_email(mailer, 3))
    assert len(recorder.messages) == 1 and mailer.connections_opened == 1  # RSET, same session


async def test_the_stack_sink_receives_every_pooled_message(stack, uid):
    mailer = SmtpMailer("127.0.0.1", stack.smtp_port, from_address="Kaffee <orders@kaffee.example>", pool_size=2)
    to = f"pool-{uid}@example.com"
    for n in range(5):
        await mailer.send(mailer.build(message_id=f"{uid}-{n}", to=to, subject=f"Pooled {n}", text=f"t{n}",
                                       html=f"<p>h{n}</p>", reply_to="help@kaffee.example"))
    await mailer.send(mailer.build(message_id=f"{uid}-0", to=to, subject="Pooled 0", text="t0", html="<p>h0</p>"))
    assert mailer.connections_opened == 1
    await mailer.close()
    async with httpx.AsyncClient() as client:
        got = (await client.get(f"{stack.mail_api_url()}/api/messages", params={"to": to})).json()
    assert sorted(m["subject"] for m in got) == ["Pooled 0", "Pooled 0", "Pooled 1", "Pooled 2", "Pooled 3", "Pooled 4"]
    ids = [m["headers"]["Message-ID"] for m in got if m["subject"] == "Pooled 0"]
    assert ids == [f"<{uid}-0@aftercart>"] * 2  # a repeat carries the same Message-ID
    assert {m["headers"].get("Reply-To") for m in got if m["subject"] == "Pooled 1"} == {"help@kaffee.example"}


@pytest.mark.parametrize("relay", ["plain"], indirect=True)
async def test_the_email_channel_closes_its_pooled_sessions(relay, tls_files):
    from services.notifier.adapters.email_channel import EmailChannel

    mode, controller, recorder = relay
    mailer = _mailer(mode, controller, tls_files)
    await mailer.send(_email(mailer, 1))
    [(client, _)] = mailer._idle
    await EmailChannel(mailer).close()
    assert mailer.idle_connections == 0 and not client.is_connected  # said QUIT and hung up


@pytest.mark.parametrize("relay", ["plain"], indirect=True)
async def test_a_session_lost_mid_message_is_a_temporary_refusal_and_the_next_send_reconnects(relay, tls_files):
    mode, controller, recorder = relay
    mailer = _mailer(mode, controller, tls_files)
    await mailer.send(_email(mailer, 1))
    recorder.hang_up_on_data = 1
    with pytest.raises(SendRefused) as lost:
        await mailer.send(_email(mailer, 2))
    assert lost.value.temporary is True and mailer.idle_connections == 0  # the broken session is dropped
    await mailer.send(_email(mailer, 2))  # the sender's retry: a new session, the same Message-ID
    assert [message_from_bytes(raw)["Message-ID"] for _, raw in recorder.messages] == ["<m-1@aftercart>",
                                                                                       "<m-2@aftercart>"]
    assert len(recorder.sessions()) == 2 and mailer.connections_opened == 2
    await mailer.close()
