"""Every REST failure of reconcile and check-webhooks names its cause (issue 15, point 8), in the
log and in the summary, without secrets: a TLS server with a self-signed certificate
(CERTIFICATE_VERIFY_FAILED), a closed port (refused), a name that doesn't resolve (DNS), a server
that never answers (timeout), and the store simulator refusing wrong credentials (HTTP status and
WooCommerce's error code) — through the scheduled path (Reconciler.all) and the CLI."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.ingest.adapters.woo_rest import WooRestClient
from tests.integration.ingest.conftest import SIM_CK, TOKEN, closed_port

AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROOT = Path(__file__).resolve().parents[3]


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address(
                "127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
async def tls_server(tmp_path):
    """An https server on 127.0.0.1 whose certificate no CA signed (a store with its own CA, as seen
    by a client that doesn't trust it)."""
    cert, key = _self_signed(tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    async def handle(reader, writer):
        try:
            await reader.read(1024)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n[]")
            await writer.drain()
        except (ssl.SSLError, ConnectionError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    try:
        yield f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


@pytest.fixture
async def silent_server():
    """Accepts connections and never answers."""
    held = []

    async def handle(reader, writer):
        held.append(writer)
        await asyncio.sleep(3600)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        for w in held:
            w.close()
        server.close()


async def _register(ingest, sid: str, rest_url: str, cs: str) -> None:
    r = await ingest.http.post("/stores", headers=AUTH, json={
        "store_id": sid, "source_url": f"https://{sid}.example/", "webhook_secret": f"{sid}-secret-0123456789",
        "rest_url": rest_url, "consumer_key": SIM_CK, "consumer_secret": cs})
    assert r.status_code == 201, r.text


def _log_lines(text: str, event: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        start = line.find("{")
        if start < 0 or event not in line:
            continue
        try:
            rec = json.loads(line[start:])
        except ValueError:
            continue
        if rec.get("event") == event:
            out.append(rec)
    return out


async def test_the_scheduled_reconcile_logs_each_failure_with_its_cause(ingest, storesim, tls_server, uid, capfd):
    dead = closed_port()
    cs = f"cs_wrong_{uid}_0123456789"
    stores = {f"tls-{uid}": tls_server, f"ref-{uid}": f"http://127.0.0.1:{dead.getsockname()[1]}",
              f"dns-{uid}": f"https://no-such-store-{uid}.invalid", f"auth-{uid}": storesim.url}
    try:
        for sid, url in stores.items():
            await _register(ingest, sid, url, cs)
        results = await ingest.app.state.service.reconciler.all(store_ids=list(stores))
    finally:
        dead.close()
        await ingest.pool.execute("UPDATE stores SET rest_url = NULL, consumer_key = NULL, consumer_secret = NULL"
                                  " WHERE store_id = ANY($1::text[])", list(stores))
    tls, refused, dns, auth = (results[sid] for sid in stores)
    assert (tls["error"], tls["cause"]) == ("ConnectError", "tls_verify_failed"), tls
    assert "CERTIFICATE_VERIFY_FAILED" in tls["reason"]
    assert refused["cause"] == "connection_refused", refused
    assert dns["cause"] == "dns", dns
    assert (auth["cause"], auth["status"]) == ("http_status", 401), auth
    assert auth["code"].startswith("woocommerce_rest_"), auth

    out, err = capfd.readouterr()
    logged = {rec["store_id"]: rec for rec in _log_lines(out + err, "reconcile_failed")}
    assert {sid: logged[sid]["cause"] for sid in stores} == {
        f"tls-{uid}": "tls_verify_failed", f"ref-{uid}": "connection_refused", f"dns-{uid}": "dns",
        f"auth-{uid}": "http_status"}
    assert "CERTIFICATE_VERIFY_FAILED" in logged[f"tls-{uid}"]["reason"]
    assert logged[f"auth-{uid}"]["code"] == auth["code"]
    assert cs not in out + err and SIM_CK not in out + err


async def test_a_timeout_is_named_as_such(silent_server):
    client = WooRestClient(silent_server, "ck_x", "cs_y", timeout_s=0.5)
    from services.ingest.adapters.woo_rest import failure
    try:
        with pytest.raises(Exception) as raised:
            await client.webhooks()
    finally:
        await client.close()
    f = failure(raised.value)
    assert f["cause"] == "timeout" and "timeout" in f["reason"], f


def _cli(dsn: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, AFTERCART_INGEST_DATABASE_URL=dsn)
    return subprocess.run([sys.executable, "-m", "deploy.local.cli", "ingest", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


async def test_check_webhooks_and_reconcile_by_cli_name_the_tls_cause(ingest, stack, tls_server, uid):
    sid = f"clitls-{uid}"
    await _register(ingest, sid, tls_server, f"cs_{uid}_0123456789")
    try:
        for command in ("check-webhooks", "reconcile"):
            done = await asyncio.to_thread(_cli, stack.service_dsn("ingest"), command, "--store", sid)
            assert done.returncode == 1, (done.stdout, done.stderr)
            summary = json.loads(done.stdout)
            assert (summary["store_id"], summary["cause"]) == (sid, "tls_verify_failed"), summary
            assert "CERTIFICATE_VERIFY_FAILED" in summary["reason"]
            [line] = _log_lines(done.stderr, "rest_call_failed")
            assert line["cause"] == "tls_verify_failed" and line["store_id"] == sid
            assert f"cs_{uid}" not in done.stdout + done.stderr
    finally:
        await ingest.pool.execute("UPDATE stores SET rest_url = NULL WHERE store_id = $1", sid)
