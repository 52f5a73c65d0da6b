"""Why a call to a store failed, as reconcile and check-webhooks log it (issue 15, point 8): the
underlying reason — TLS verification, DNS, refused, timeout, HTTP status and WooCommerce's error
code — never a secret. Real exceptions, raised the way httpx chains them."""
from __future__ import annotations

import socket
import ssl

import httpx
import pytest

from services.ingest.adapters.woo_rest import WooRestClient, WooRestError, describe, failure


def _chained(outer: httpx.HTTPError, inner: BaseException) -> httpx.HTTPError:
    try:
        try:
            raise inner
        except BaseException as e:
            raise outer from e
    except httpx.HTTPError as got:
        return got


def test_tls_verification_names_certificate_verify_failed():
    inner = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    inner.reason, inner.verify_message = "CERTIFICATE_VERIFY_FAILED", "self-signed certificate"
    f = failure(_chained(httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]"), inner))
    assert f == {"error": "ConnectError", "cause": "tls_verify_failed",
                 "reason": "CERTIFICATE_VERIFY_FAILED: self-signed certificate"}
    assert describe(_chained(httpx.ConnectError("x"), inner)).startswith("ConnectError: tls_verify_failed (")


@pytest.mark.parametrize("outer,inner,cause", [
    (httpx.ConnectError("x"), socket.gaierror(-2, "Name or service not known"), "dns"),
    (httpx.ConnectError("All connection attempts failed"), ConnectionRefusedError(111, "Connection refused"),
     "connection_refused"),
    (httpx.ConnectTimeout(""), TimeoutError(), "timeout"),
    (httpx.ReadTimeout("timed out"), TimeoutError(), "timeout"),
    (httpx.ConnectError("x"), ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "tls"),
    (httpx.RemoteProtocolError("Server disconnected without sending a response."), OSError("eof"), "network"),
])
def test_network_failures_name_their_cause(outer, inner, cause):
    f = failure(_chained(outer, inner))
    assert f["error"] == type(outer).__name__ and f["cause"] == cause and f["reason"]


def test_a_connect_timeout_says_which_phase():
    assert failure(httpx.ConnectTimeout(""))["reason"] == "connect timeout"


async def test_http_status_and_woocommerce_error_code():
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"code": "woocommerce_rest_authentication_error", "message": "Invalid signature"})

    client = WooRestClient("https://s.example", "ck_secretkey123", "cs_secretsecret456",
                           transport=httpx.MockTransport(answer))
    try:
        with pytest.raises(WooRestError) as raised:
            await client.webhooks()
    finally:
        await client.close()
    f = failure(raised.value)
    assert f == {"error": "WooRestError", "cause": "http_status", "status": 401,
                 "code": "woocommerce_rest_authentication_error",
                 "reason": "GET /webhooks → 401 woocommerce_rest_authentication_error"}


def test_no_secret_survives_in_a_reason():
    exc = httpx.ConnectError("failed https://ck_abc123:cs_def456@s.example/wp-json?consumer_secret=cs_zzz&oauth_signature=q")
    text = str(failure(exc))
    assert "ck_abc123" not in text and "cs_def456" not in text and "cs_zzz" not in text and "oauth_signature=q" not in text
    assert len(failure(httpx.ConnectError("y" * 5000))["reason"]) <= 200
