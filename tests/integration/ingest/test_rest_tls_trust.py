"""A store served over https with a certificate from its own CA (issue 15, point 8): the store simulator
on a real TLS socket, its certificate issued by a throwaway CA made here. Without anything named
to trust, verification fails with CERTIFICATE_VERIFY_FAILED; the store's CA bundle makes it work; a
pinned fingerprint works when it is the certificate's and fails, before any request is sent, when
it is not. Set through POST/PATCH /stores and used by the scheduled reconcile; never logged."""
from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from deploy.local.storesim import Store
from deploy.local.storesim import create_app as create_sim_app
from services.ingest.adapters.woo_rest import WooRestClient, failure
from tests.integration.ingest.conftest import SIM_CK, SIM_CS, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _leaf(ca_key, ca_cert: x509.Certificate) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class _Counting:
    """ASGI wrapper counting the HTTP requests that reached the store."""

    def __init__(self, app) -> None:
        self.app, self.requests = app, 0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self.requests += 1
        return await self.app(scope, receive, send)


@dataclass
class TlsStore:
    url: str
    ca_pem: str
    fingerprint: str  # SHA-256 of the store's certificate (DER), lower-case hex
    app: _Counting


@pytest.fixture
def tls_store(tmp_path: Path):
    ca_key, ca_cert = _ca("Store's own CA")
    key, cert = _leaf(ca_key, ca_cert)
    cert_file, key_file = tmp_path / "store.pem", tmp_path / "store.key"
    cert_file.write_text(_pem(cert))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    app = _Counting(create_sim_app(Store("https://tls-store.example/"), consumer_key=SIM_CK, consumer_secret=SIM_CS))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ssl_certfile=str(cert_file),
                                           ssl_keyfile=str(key_file)))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "TLS store simulator did not start"
        time.sleep(0.02)
    yield TlsStore(url=f"https://127.0.0.1:{sock.getsockname()[1]}", ca_pem=_pem(ca_cert),
                   fingerprint=hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(), app=app)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


async def _webhooks(url: str, **trust) -> list | BaseException:
    client = WooRestClient(url, SIM_CK, SIM_CS, timeout_s=10, **trust)
    try:
        return await client.webhooks()
    except Exception as exc:  # noqa: BLE001 - the test looks at what failed
        return exc
    finally:
        await client.close()


async def test_without_trust_named_verification_fails_with_its_cause(tls_store):
    result = await _webhooks(tls_store.url)
    assert isinstance(result, BaseException), result
    f = failure(result)
    assert (f["error"], f["cause"]) == ("ConnectError", "tls_verify_failed"), f
    assert "CERTIFICATE_VERIFY_FAILED" in f["reason"], f
    assert tls_store.app.requests == 0


async def test_the_stores_ca_bundle_makes_it_work(tls_store):
    assert await _webhooks(tls_store.url, ca_bundle=tls_store.ca_pem) == []
    assert tls_store.app.requests == 1
    # Another CA's bundle is no good: that store's CA is the one trusted, not any.
    _, other = _ca("Someone else's CA")
    f = failure(await _webhooks(tls_store.url, ca_bundle=_pem(other)))
    assert f["cause"] == "tls_verify_failed" and "CERTIFICATE_VERIFY_FAILED" in f["reason"], f
    assert tls_store.app.requests == 1


async def test_the_right_fingerprint_works_alone_or_with_the_bundle(tls_store):
    assert await _webhooks(tls_store.url, cert_sha256=tls_store.fingerprint) == []
    assert await _webhooks(tls_store.url, ca_bundle=tls_store.ca_pem, cert_sha256=tls_store.fingerprint) == []
    assert tls_store.app.requests == 2


async def test_a_wrong_fingerprint_fails_before_anything_is_sent(tls_store):
    wrong = hashlib.sha256(b"another certificate").hexdigest()
    for trust in ({"cert_sha256": wrong}, {"cert_sha256": wrong, "ca_bundle": tls_store.ca_pem}):
        result = await _webhooks(tls_store.url, **trust)
        f = failure(result)
        assert (f["error"], f["cause"]) == ("ConnectError", "tls_verify_failed"), f
        assert "CERTIFICATE_FINGERPRINT_MISMATCH" in f["reason"] and "not the pinned one" in f["reason"], f
        assert tls_store.fingerprint[:16] in f["reason"] and wrong[:16] not in f["reason"], f
    assert tls_store.app.requests == 0  # the handshake failed: no request, no credentials sent


def _logged(text: str, event: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        start = line.find("{")
        if start >= 0 and event in line:
            try:
                rec = json.loads(line[start:])
            except ValueError:
                continue
            if rec.get("event") == event:
                out.append(rec)
    return out


async def test_trust_set_through_the_api_is_used_by_the_scheduled_reconcile_and_never_logged(
        ingest, tls_store, uid, capfd):
    sid = f"tls-{uid}"
    reconciler = ingest.app.state.service.reconciler
    body = {"store_id": sid, "source_url": f"https://{sid}.example/", "webhook_secret": f"{sid}-secret-0123456789",
            "rest_url": tls_store.url, "consumer_key": SIM_CK, "consumer_secret": SIM_CS,
            "rest_ca_bundle": tls_store.ca_pem}
    r = await ingest.http.post("/stores", headers=AUTH, json=body)
    assert r.status_code == 201, r.text
    assert (r.json()["rest_ca_bundle_set"], r.json()["rest_cert_sha256"]) == (True, None)
    wrong = "AA:" * 31 + "AA"
    try:
        ok = (await reconciler.all(store_ids=[sid]))[sid]
        assert ok["webhooks"] == {"total": 0, "disabled": []}, ok

        # A pin in the form tools print (colons, upper case); wrong, so the reconcile fails with the cause.
        r = await ingest.http.patch(f"/stores/{sid}", headers=AUTH, json={"rest_cert_sha256": wrong})
        assert r.status_code == 200 and r.json()["rest_cert_sha256"] == "a" * 64, r.text
        failed = (await reconciler.all(store_ids=[sid]))[sid]
        assert failed["cause"] == "tls_verify_failed" and "CERTIFICATE_FINGERPRINT_MISMATCH" in failed["reason"]

        # The right pin alone (the bundle cleared): the store's own certificate is trusted for itself.
        right = ":".join(tls_store.fingerprint[i:i + 2] for i in range(0, 64, 2)).upper()
        r = await ingest.http.patch(f"/stores/{sid}", headers=AUTH,
                                    json={"rest_cert_sha256": right, "rest_ca_bundle": None})
        assert r.status_code == 200, r.text
        assert (r.json()["rest_ca_bundle_set"], r.json()["rest_cert_sha256"]) == (False, tls_store.fingerprint)
        again = (await reconciler.all(store_ids=[sid]))[sid]
        assert again["webhooks"] == {"total": 0, "disabled": []}, again
        listed = {s["store_id"]: s for s in (await ingest.http.get("/stores", headers=AUTH)).json()}
        assert listed[sid]["rest_cert_sha256"] == tls_store.fingerprint and "rest_ca_bundle" not in listed[sid]
    finally:
        await ingest.pool.execute("UPDATE stores SET rest_url = NULL, consumer_key = NULL, consumer_secret = NULL"
                                  " WHERE store_id = $1", sid)

    out, err = capfd.readouterr()
    logs = out + err
    assert _logged(logs, "reconcile_failed") and _logged(logs, "store_updated")
    pem_body = tls_store.ca_pem.splitlines()[1]
    assert pem_body not in logs and "BEGIN CERTIFICATE" not in logs
    assert "a" * 64 not in logs and tls_store.fingerprint not in logs and wrong not in logs
    assert SIM_CS not in logs


@pytest.mark.parametrize("trust, why", [
    ({"rest_ca_bundle": "not a certificate"}, "PEM certificates"),
    ({"rest_ca_bundle": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, "PEM certificates"),
    ({"rest_ca_bundle": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}, "private key"),
    ({"rest_cert_sha256": "abc"}, "64 hex digits"),
    ({"rest_cert_sha256": "g" * 64}, "64 hex digits"),
])
async def test_unusable_trust_is_a_422_and_stores_nothing(ingest, uid, trust, why):
    sid = f"bad-{uid}"
    r = await ingest.http.post("/stores", headers=AUTH, json={
        "store_id": sid, "source_url": f"https://{sid}.example/", "webhook_secret": f"{sid}-secret-0123456789",
        "rest_url": "https://127.0.0.1:9", **trust})
    assert r.status_code == 422 and why in r.text, r.text
    assert await ingest.pool.fetchval("SELECT count(*) FROM stores WHERE store_id = $1", sid) == 0
    r = await ingest.http.patch(f"/stores/{ingest.store_id}", headers=AUTH, json=trust)
    assert r.status_code == 422 and why in r.text, r.text
    row = await ingest.pool.fetchrow("SELECT rest_ca_bundle, rest_cert_sha256 FROM stores WHERE store_id = $1",
                                     ingest.store_id)
    assert tuple(row) == (None, None)
