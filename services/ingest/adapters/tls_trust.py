"""The TLS context of a store's REST client, from what the store names to trust
(domain/tls_trust.py): its own CA bundle, a pinned certificate fingerprint, or neither (the
system's CAs, httpx's default).

The pin is checked inside the handshake: the context's SSL objects are a subclass whose
do_handshake() compares the SHA-256 of the peer's certificate with the pin and raises
ssl.SSLCertVerificationError on a mismatch, so the connection fails like any certificate
verification (httpx.ConnectError, cause tls_verify_failed) before a byte of the request, or its
credentials, is sent. httpx's async client does its TLS through SSLContext.wrap_bio (anyio), which
builds objects of the context's sslobject_class.
"""
from __future__ import annotations

import hashlib
import hmac
import ssl

FINGERPRINT_MISMATCH = "CERTIFICATE_FINGERPRINT_MISMATCH"


class _PinnedSSLObject(ssl.SSLObject):
    pin = ""  # set on a per-context subclass

    def do_handshake(self) -> None:
        super().do_handshake()
        der = self.getpeercert(binary_form=True)
        seen = hashlib.sha256(der).hexdigest() if der else ""
        if not hmac.compare_digest(seen, self.pin):
            # Only the fingerprint the store showed goes in the message (a log may hold it), not the pin.
            message = (f"the store's certificate (sha256 {seen[:16]}…) is not the pinned one" if seen
                       else "the store presented no certificate")
            error = ssl.SSLCertVerificationError(1, f"[{FINGERPRINT_MISMATCH}] {message}")
            error.reason, error.verify_message = FINGERPRINT_MISMATCH, message
            raise error


def ssl_context(ca_bundle: str | None = None, cert_sha256: str | None = None) -> ssl.SSLContext | bool:
    """What httpx's `verify` takes for a store: True (the system's CAs) when it names nothing."""
    if not ca_bundle and not cert_sha256:
        return True
    if ca_bundle:
        ctx = ssl.create_default_context(cadata=ca_bundle)  # only the store's CAs; host name checked
    else:
        # A pinned certificate is trusted for itself: no chain or host name to check, the pin is all.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert_sha256:
        ctx.sslobject_class = type("PinnedSSLObject", (_PinnedSSLObject,), {"pin": cert_sha256})
    return ctx
