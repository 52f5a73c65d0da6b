"""The simulator checks OAuth 1.0a as WooCommerce does over plain http (deploy/local/storesim/oauth1.py),
measured against oauthlib, an implementation it shares no code with: what oauthlib signs is
accepted, and each way WooCommerce refuses a request is refused the same way (401, its code and
message). Served through ASGI here (scheme http); tests/integration/ingest/test_rest_oauth.py does
it over a real socket with ingest's client."""
from __future__ import annotations

import base64
import time

import httpx
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER, \
    SIGNATURE_TYPE_QUERY, Client
from oauthlib.oauth1.rfc5849 import signature as rfc5849

from deploy.local.storesim import create_app
from deploy.local.storesim.oauth1 import WINDOW_S, base_string
from tests.support.storesim import API, CK, CS, fixture

ORDERS = f"http://sim{API}/orders"


def _client(store, *, https: bool = False, **kwargs) -> httpx.AsyncClient:
    app = create_app(store, consumer_key=CK, consumer_secret=CS, basic_over_http=False, **kwargs)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"{'https' if https else 'http'}://sim")


def _signed(url: str, secret: str = CS, key: str = CK, method: str = "GET", **client_kwargs) -> str:
    client_kwargs.setdefault("signature_type", SIGNATURE_TYPE_QUERY)
    return Client(key, client_secret=secret, signature_method=client_kwargs.pop("signature_method", SIGNATURE_HMAC_SHA1),
                  **client_kwargs).sign(url, method)[0]


def _refused(response: httpx.Response, code: str, message: str) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {"code": code, "message": message, "data": {"status": 401}}


@pytest.mark.parametrize("value", ["plain", "a b", "a+b", "50%", "tilde~", "é€", "x=y&z", "2026-01-01T00:00:00+00:00"])
def test_the_base_string_is_the_one_oauthlib_builds(value):
    params = {"status": value, "page": "2", "oauth_consumer_key": CK, "oauth_nonce": "n1", "oauth_timestamp": "1",
              "oauth_signature_method": "HMAC-SHA1", "oauth_version": "1.0", "oauth_signature": "left out"}
    uri = "http://127.0.0.1:8080/wp-json/wc/v3/orders"
    theirs = rfc5849.signature_base_string(
        "GET", rfc5849.base_string_uri(uri),
        rfc5849.normalize_parameters([(k, v) for k, v in params.items() if k != "oauth_signature"]))
    assert base_string("GET", uri, params) == theirs


async def test_a_request_oauthlib_signed_is_logged_in(store):
    store.load_order(fixture("order.v3.docs.json"))
    url = httpx.URL(ORDERS, params={"status": "any", "per_page": 5, "search": "a b+c"})
    async with _client(store) as http:
        for method in (SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256):
            r = await http.get(_signed(str(url), signature_method=method))
            assert r.status_code == 200, r.text
        # The Authorization: OAuth header is read too (WooCommerce merges it with the query).
        signed_url, headers, _ = Client(CK, client_secret=CS, signature_type=SIGNATURE_TYPE_AUTH_HEADER).sign(
            str(url), "GET")
        assert (await http.get(signed_url, headers=headers)).status_code == 200
    # Spent nonces are remembered by timestamp, as WooCommerce keeps them (one per second).
    assert store.api_keys[CK].nonces and set(store.api_keys[CK].nonces) <= {int(time.time()) + d for d in (-1, 0)}


async def test_a_bad_signature_is_refused(store):
    async with _client(store) as http:
        _refused(await http.get(_signed(ORDERS, secret="cs_wrong")), "woocommerce_rest_authentication_error",
                 "Invalid signature - provided signature does not match.")
        # A parameter changed after signing breaks the signature too.
        tampered = _signed(ORDERS + "?status=processing").replace("status=processing", "status=completed")
        _refused(await http.get(tampered), "woocommerce_rest_authentication_error",
                 "Invalid signature - provided signature does not match.")
        _refused(await http.get(_signed(ORDERS, signature_method="PLAINTEXT")),
                 "woocommerce_rest_authentication_error", "Invalid signature - signature method is invalid.")
    assert store.api_keys[CK].nonces == {}  # a refused signature spends no nonce


async def test_a_reused_nonce_is_refused(store):
    async with _client(store) as http:
        first = await http.get(_signed(ORDERS, nonce="n0nce-used-once"))
        again = await http.get(_signed(ORDERS + "?page=1", nonce="n0nce-used-once"))
    assert first.status_code == 200, first.text
    _refused(again, "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used.")


@pytest.mark.parametrize("offset", [-(WINDOW_S + 60), WINDOW_S + 60])
async def test_a_timestamp_outside_fifteen_minutes_is_refused(store, offset):
    stamp = str(int(time.time()) + offset)
    async with _client(store) as http:
        _refused(await http.get(_signed(ORDERS, timestamp=stamp)), "woocommerce_rest_authentication_error",
                 "Invalid timestamp.")
        # Just inside the window it is fine: the server's clock (oauth_clock), not the store's.
        inside = str(int(time.time()) + (offset // abs(offset)) * (WINDOW_S - 60))
        assert (await http.get(_signed(ORDERS, timestamp=inside))).status_code == 200


async def test_a_nonce_is_forgotten_once_its_timestamp_is_out_of_the_window(store):
    now = [1_800_000_000.0]
    async with _client(store, oauth_clock=lambda: now[0]) as http:
        assert (await http.get(_signed(ORDERS, nonce="again", timestamp=str(int(now[0]))))).status_code == 200
        now[0] += WINDOW_S + 1
        # As in WooCommerce, the next accepted request prunes nonces older than the window; then
        # the nonce may come again (the request it came with is stale by now anyway).
        assert (await http.get(_signed(ORDERS, nonce="other", timestamp=str(int(now[0]))))).status_code == 200
        assert (await http.get(_signed(ORDERS, nonce="again", timestamp=str(int(now[0]))))).status_code == 200


async def test_missing_parameters_and_an_unknown_key_are_refused(store):
    async with _client(store) as http:
        _refused(await http.get(ORDERS, params={"oauth_consumer_key": CK, "oauth_nonce": "x"}),
                 "woocommerce_rest_authentication_missing_parameter",
                 "Missing OAuth parameters oauth_timestamp, oauth_signature, oauth_signature_method")
        _refused(await http.get(_signed(ORDERS, key="ck_nobody")), "woocommerce_rest_authentication_error",
                 "Consumer key is invalid.")


async def test_over_plain_http_basic_is_not_a_login_and_over_https_oauth_is_not(store):
    basic = {"Authorization": "Basic " + base64.b64encode(f"{CK}:{CS}".encode()).decode()}
    async with _client(store) as http:
        _refused(await http.get(ORDERS, headers=basic), "woocommerce_rest_cannot_view",
                 "Sorry, you cannot list resources.")
        _refused(await http.get(ORDERS, params={"consumer_key": CK, "consumer_secret": CS}),
                 "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
    async with _client(store, https=True) as http:
        assert (await http.get(f"https://sim{API}/orders", headers=basic)).status_code == 200
        _refused(await http.get(_signed(f"https://sim{API}/orders")), "woocommerce_rest_cannot_view",
                 "Sorry, you cannot list resources.")
    # The default app still takes Basic over plain http (local clients that don't sign).
    app = create_app(store, consumer_key=CK, consumer_secret=CS)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim") as http:
        assert (await http.get(ORDERS, headers=basic)).status_code == 200
        assert (await http.get(_signed(ORDERS))).status_code == 200


async def test_a_read_only_key_signs_but_cannot_write(store):
    store.add_api_key("ck_ro", "cs_ro", permissions="read")
    async with _client(store) as http:
        assert (await http.get(_signed(ORDERS, key="ck_ro", secret="cs_ro"))).status_code == 200
        r = await http.post(_signed(f"http://sim{API}/coupons", key="ck_ro", secret="cs_ro", method="POST"),
                            json={"code": "x"})
    _refused(r, "woocommerce_rest_authentication_error", "The API key provided does not have write permissions.")


@pytest.mark.parametrize("https, strict", [(True, True), (False, False)])
async def test_a_key_without_its_secret_never_logs_in(store, https, strict):
    scheme = "https" if https else "http"
    app = create_app(store, consumer_key=CK, consumer_secret=CS, basic_over_http=not strict)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"{scheme}://sim") as http:
        r = await http.get(f"{scheme}://sim{API}/orders", params={"consumer_key": CK})
        wrong = await http.get(f"{scheme}://sim{API}/orders", params={"consumer_key": CK, "consumer_secret": "cs_x"})
    assert r.status_code == 401 and wrong.status_code == 401
    assert wrong.json()["message"] == "Consumer secret is invalid."
