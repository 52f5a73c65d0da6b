"""What a store may name to trust for a self-signed https REST API is checked before it is kept
(domain/tls_trust.py), and becomes the REST client's TLS context (adapters/tls_trust.py)."""
from __future__ import annotations

import datetime as dt
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.ingest.adapters.tls_trust import ssl_context
from services.ingest.domain.tls_trust import MAX_CA_BUNDLE, BadTrust, check_ca_bundle, normalize_fingerprint

HEX = "0123456789abcdef" * 4


def _ca_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "unit CA")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize("given", [HEX, HEX.upper(), ":".join(HEX[i:i + 2] for i in range(0, 64, 2)).upper(),
                                   f"  sha256={HEX} ", " ".join(HEX[i:i + 2] for i in range(0, 64, 2))])
def test_a_fingerprint_in_any_usual_form_is_kept_as_64_hex_digits(given):
    assert normalize_fingerprint(given) == HEX


@pytest.mark.parametrize("given", ["", HEX[:-1], HEX + "0", "z" * 64, HEX[:-2] + "::"])
def test_anything_else_is_no_fingerprint(given):
    with pytest.raises(BadTrust):
        normalize_fingerprint(given)


def test_a_ca_bundle_is_one_or_more_certificates_and_nothing_secret():
    one, two = _ca_pem(), _ca_pem()
    assert check_ca_bundle(one) == one
    # Kept as its certificates alone: what surrounds them (comments, a NUL PostgreSQL can't hold) goes.
    assert check_ca_bundle(f"# the store's CA\x00\r\n{one}\n# and its successor\n{two}") == one + two
    for bad, why in [("hello", "PEM"), (one.replace("MII", "XXX", 1)[:60], "PEM"), ("\ud800" + one, "PEM"),
                     (one + "-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----\n", "private key"),
                     (one + " " * MAX_CA_BUNDLE, "longer")]:
        with pytest.raises(BadTrust, match=why):
            check_ca_bundle(bad)


def test_the_client_context_trusts_what_the_store_names():
    assert ssl_context() is True  # nothing named: httpx's default (the system's CAs)
    bundle = _ca_pem()
    ctx = ssl_context(ca_bundle=bundle)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert [c["subject"] for c in ctx.get_ca_certs()] == [((("commonName", "unit CA"),),)]
    pinned = ssl_context(cert_sha256=HEX)
    # A pin alone: the chain is not what's checked, the certificate's fingerprint is (in the handshake).
    assert pinned.verify_mode == ssl.CERT_NONE and not pinned.check_hostname
    assert pinned.sslobject_class.pin == HEX
    both = ssl_context(ca_bundle=bundle, cert_sha256=HEX)
    assert both.verify_mode == ssl.CERT_REQUIRED and both.sslobject_class.pin == HEX
