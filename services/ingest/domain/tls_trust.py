"""What a store may name to trust for its https REST API when its certificate is not one the
system's CAs vouch for (a store with its own certificate authority, or a self-signed one):

- rest_ca_bundle: PEM text of the CA certificate(s) that sign the store's certificate. It replaces
  the system's CAs for that store; the host name is still checked.
- rest_cert_sha256: the SHA-256 fingerprint of the store's certificate itself (hex, colons and
  case as any tool prints them). The certificate the store presents must be exactly that one,
  checked during the TLS handshake, before a request (and its credentials) is sent. Alone it
  trusts that certificate whoever signed it and whatever host name it names; with a CA bundle,
  both must hold.

Neither is a secret, but both say what the service trusts: they are kept with the store, shown
by the API only as whether a bundle is set and which fingerprint is pinned, and never logged.
The REST client builds its TLS context from them (adapters/tls_trust.py).
"""
from __future__ import annotations

import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization

MAX_CA_BUNDLE = 64 * 1024  # a bundle of a few dozen certificates; ingest keeps and parses it per client
_HEX64 = re.compile(r"[0-9a-f]{64}")


class BadTrust(ValueError):
    """A CA bundle or fingerprint that can't be used (the API answers 422 with this text)."""


def normalize_fingerprint(text: str) -> str:
    """64 lower-case hex digits, from "AB:CD:…", "ab cd …" or "sha256=…", in any case."""
    digits = re.sub(r"[\s:]", "", text.strip()).lower()
    if digits.startswith("sha256="):
        digits = digits[len("sha256="):]
    if not _HEX64.fullmatch(digits):
        raise BadTrust("rest_cert_sha256 must be a SHA-256 fingerprint: 64 hex digits (colons allowed)")
    return digits


def check_ca_bundle(pem: str) -> str:
    """The bundle's certificates, PEM-encoded anew (text around them — comments, stray bytes
    PostgreSQL can't hold — is dropped), once it holds at least one; a private key pasted along
    is refused rather than kept."""
    if len(pem) > MAX_CA_BUNDLE:
        raise BadTrust(f"rest_ca_bundle is longer than {MAX_CA_BUNDLE} characters")
    if "PRIVATE KEY" in pem:
        raise BadTrust("rest_ca_bundle holds a private key: give only the CA certificate(s)")
    try:
        certs = x509.load_pem_x509_certificates(pem.encode())  # a lone surrogate: UnicodeEncodeError
    except ValueError:
        raise BadTrust("rest_ca_bundle must be PEM certificates (-----BEGIN CERTIFICATE-----)") from None
    if not certs:
        raise BadTrust("rest_ca_bundle holds no certificate")
    return "".join(cert.public_bytes(serialization.Encoding.PEM).decode() for cert in certs)
