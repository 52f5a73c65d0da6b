"""OAuth 1.0a one-legged verification, as WooCommerce checks a request that arrives over plain
http (WC_REST_Authentication::perform_oauth_authentication(), includes/class-wc-rest-authentication.php;
/work/shared/woocommerce/webhooks.md "Authentication").

Written out step by step after WooCommerce's PHP rather than with an OAuth library on purpose: the
simulator is the yardstick Aftercart's client (which signs with oauthlib) is measured against, so
it must not share that client's code. What WooCommerce does, in its order:

1. the parameters are the query string's ($_GET, values decoded, the last of a repeated name wins)
   merged with an ``Authorization: OAuth ...`` header's oauth_* ones; none of the five oauth_*
   parameters: not an OAuth request (the caller is simply not logged in); some but not all:
   401 woocommerce_rest_authentication_missing_parameter;
2. an unknown oauth_consumer_key: 401 woocommerce_rest_authentication_error "Consumer key is invalid.";
3. the signature: every parameter but oauth_signature, sorted by name (strcmp), names and values
   rawurlencode()d, joined "name=value" with "&", the whole encoded once more; the base string is
   ``METHOD&rawurlencode(home URL + request path)&that``; the key is ``consumer_secret + "&"``
   (no token, nothing encoded); HMAC-SHA1 or HMAC-SHA256, base64; compared in constant time;
4. the timestamp within 15 minutes either way of the server's clock, and the nonce not one of
   the key's nonces of the last 15 minutes (they are kept by timestamp, as WooCommerce keeps them).

Every refusal is a 401 with WooCommerce's code and message.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Callable, Iterable
from urllib.parse import quote, unquote

from .errors import WCError

WINDOW_S = 15 * 60  # WooCommerce's $valid_window
REQUIRED = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method")
_HASHES = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}
_HEADER_PARAM = re.compile(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))')


def _auth_error(message: str) -> WCError:
    return WCError("woocommerce_rest_authentication_error", message, 401)


def header_params(header: str) -> dict[str, str]:
    """parse_header(): the oauth_* parameters of an ``Authorization: OAuth ...`` header."""
    header = header.strip()
    if not header.startswith("OAuth "):
        return {}
    return {m.group(1): unquote(m.group(3) or m.group(4)) for m in _HEADER_PARAM.finditer(header)}


def oauth_parameters(query: Iterable[tuple[str, str]], authorization: str = "") -> dict[str, str] | None:
    """get_oauth_parameters(): every parameter to sign, or None when the request isn't OAuth at all."""
    params = dict(query)
    params.update(header_params(authorization))
    missing = [name for name in REQUIRED if not params.get(name)]
    if len(missing) == len(REQUIRED):
        return None
    if missing:
        label = "Missing OAuth parameter" if len(missing) == 1 else "Missing OAuth parameters"
        raise WCError("woocommerce_rest_authentication_missing_parameter", f"{label} {', '.join(missing)}", 401)
    return params


def _rfc3986(value: str) -> str:
    return quote(value, safe="")  # PHP's rawurlencode(): only A-Z a-z 0-9 - _ . ~ stay


def base_string(method: str, base_uri: str, params: dict[str, str]) -> str:
    """The signature base string check_oauth_signature() builds (oauth_signature left out)."""
    pairs = [(_rfc3986(k), _rfc3986(v)) for k, v in sorted(params.items()) if k != "oauth_signature"]
    joined = "%26".join(_rfc3986(f"{k}={v}") for k, v in pairs)
    return f"{method.upper()}&{_rfc3986(base_uri)}&{joined}"


def check_signature(method: str, base_uri: str, params: dict[str, str], consumer_secret: str) -> None:
    given = unquote(params["oauth_signature"].replace(" ", "+"))
    digest = _HASHES.get(params["oauth_signature_method"])
    if digest is None:
        raise _auth_error("Invalid signature - signature method is invalid.")
    mac = hmac.new((consumer_secret + "&").encode(), base_string(method, base_uri, params).encode(), digest)
    if not hmac.compare_digest(base64.b64encode(mac.digest()).decode(), given):
        raise _auth_error("Invalid signature - provided signature does not match.")


def check_timestamp_and_nonce(nonces: dict[int, str], timestamp: str, nonce: str, now: float) -> None:
    """check_oauth_timestamp_and_nonce(): `nonces` (the key's, by timestamp) remembers this one."""
    try:
        stamp = int(timestamp)
    except ValueError:
        raise _auth_error("Invalid timestamp.") from None
    if stamp < now - WINDOW_S or stamp > now + WINDOW_S:
        raise _auth_error("Invalid timestamp.")
    if nonce in nonces.values():
        raise _auth_error("Invalid nonce - nonce has already been used.")
    nonces[stamp] = nonce
    for old in [t for t in nonces if t < now - WINDOW_S]:
        del nonces[old]


def authenticate(method: str, base_uri: str, params: dict[str, str],
                 secret_of: Callable[[str], tuple[str, dict[int, str]] | None], now: float) -> str:
    """perform_oauth_authentication(): the consumer key, once signature, timestamp and nonce hold.
    ``secret_of(key)`` gives that key's consumer secret and its nonces, or None for an unknown key."""
    found = secret_of(params["oauth_consumer_key"])
    if found is None:
        raise _auth_error("Consumer key is invalid.")
    secret, nonces = found
    check_signature(method, base_uri, params, secret)
    check_timestamp_and_nonce(nonces, params["oauth_timestamp"], params["oauth_nonce"], now)
    return params["oauth_consumer_key"]
