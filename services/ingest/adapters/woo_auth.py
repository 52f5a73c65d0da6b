"""How ingest's REST client proves itself to a WooCommerce store, chosen by the REST URL's scheme as
WooCommerce chooses (WC_REST_Authentication::authenticate(): is_ssl() or not):

- https: HTTP Basic with the consumer key and secret;
- plain http: OAuth 1.0a one-legged, HMAC-SHA1, the oauth_* parameters in the query string (where
  WooCommerce reads them even when a server drops the Authorization header), signed by oauthlib
  over the whole URL (its query included) with the key consumer_secret + "&" and no token.
  WooCommerce refuses Basic over plain http, and the secret never travels: only a signature that
  a single-use nonce and a timestamp (valid 15 minutes) tie to this one request.

The signed URL carries the consumer key: httpx's request log is kept at WARNING
(shared/logging.py) so it never reaches the service's logs.
"""
from __future__ import annotations

from collections.abc import Generator

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_TYPE_QUERY, Client


class OAuth1QueryAuth(httpx.Auth):
    """Signs each request (a fresh nonce and timestamp every time, retries included)."""

    def __init__(self, consumer_key: str, consumer_secret: str) -> None:
        self._key, self._secret = consumer_key, consumer_secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        client = Client(self._key, client_secret=self._secret, signature_method=SIGNATURE_HMAC_SHA1,
                        signature_type=SIGNATURE_TYPE_QUERY)
        # The body is not signed (WooCommerce signs the query and oauth_* only), so none is passed:
        # oauthlib would otherwise insist on signing a form body.
        signed_url, _, _ = client.sign(str(request.url), request.method)
        request.url = httpx.URL(signed_url)
        yield request


def auth_for(scheme: str, consumer_key: str, consumer_secret: str) -> httpx.Auth:
    """Basic over https, OAuth 1.0a over plain http."""
    if scheme == "http":
        return OAuth1QueryAuth(consumer_key, consumer_secret)
    return httpx.BasicAuth(consumer_key, consumer_secret)
