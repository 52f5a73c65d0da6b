"""php_json_encode reproduces trim(wp_json_encode(...)) byte for byte."""
from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy.local.storesim.php_json import php_float, php_json_encode

from tests.support.storesim import FIXTURES, fixture

VECTORS = fixture("derived/signature-test-vectors.json")["vectors"]


def test_vector_3_body_is_exactly_php_output():
    # Vector 3 is PHP's escaping of the same value vector 4 shows unescaped.
    vector = VECTORS[2]
    value = json.loads(vector["body"])
    assert php_json_encode(value) == vector["body"].encode()
    assert php_json_encode(value) == rb'{"href":"https:\/\/example.com\/wp-json\/wc\/v3\/orders\/727"}'
    assert php_json_encode(value) != VECTORS[3]["body"].encode()


def test_vector_2_and_order_deleted_body():
    assert php_json_encode(json.loads(VECTORS[1]["body"])) == b'{"id":727}'
    assert php_json_encode(fixture("derived/order.deleted.json")) == b'{"id":727}'


@pytest.mark.parametrize("value, php", [
    (90.0, "90"), (3.0, "3"), (13.5, "13.5"), (10.799999999999999, "10.799999999999999"),
    (0.1, "0.1"), (0.5, "0.5"), (0.0001, "0.0001"), (1e-05, "1.0e-5"), (1.5e-10, "1.5e-10"),
    (1e16, "10000000000000000"), (1e17, "1.0e+17"), (1e20, "1.0e+20"),
    (-2.7, "-2.7"), (-0.0, "-0"), (0.0, "0"), (1.2345678901234568e+17, "1.2345678901234568e+17"),
])
def test_floats_print_like_php(value, php):
    assert php_float(value) == php


def test_nan_is_not_encodable():
    with pytest.raises(ValueError):
        php_json_encode({"x": float("nan")})


def test_unicode_control_and_slash_escapes():
    encoded = php_json_encode({"name": "Jos\u00e9 \u20ac \U0001F600", "note": "a/b\n\t\x01\x7f\"\\<&>'"})
    assert encoded == (b'{"name":"Jos\\u00e9 \\u20ac \\ud83d\\ude00",'
                       b'"note":"a\\/b\\n\\t\\u0001\x7f\\"\\\\<&>\'"}')


def test_containers_and_scalars():
    assert php_json_encode([1, True, False, None, [], {}, {"1": 2}]) == b'[1,true,false,null,[],{},{"1":2}]'
    assert php_json_encode({1: "int key"}) == b'{"1":"int key"}'


def test_legacy_delivery_log_body_matches_modulo_slash_escapes():
    # The docs' delivery log shows a body WooCommerce produced; the docs print '/' unescaped
    # but key order, number formats and spacing must be identical.
    body = fixture("legacy-delivery-log.v2.docs.json")["request_body"]
    encoded = php_json_encode(json.loads(body))
    assert b"\\/" in encoded
    assert encoded.replace(b"\\/", b"/") == body.encode()


@pytest.mark.parametrize("path", sorted(p.relative_to(FIXTURES).as_posix()
                                        for p in FIXTURES.rglob("*.json")))
def test_every_fixture_round_trips(path):
    value = fixture(path)
    encoded = php_json_encode(value)
    assert json.loads(encoded) == value
    assert encoded.isascii()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20)


def _same(a, b) -> bool:
    """Equal, with numbers compared as floats: PHP prints 3.5e16 as 35000000000000000."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return a == b and type(a) is type(b)


@given(json_values)
def test_any_json_value_decodes_back(value):
    encoded = php_json_encode(value)
    assert encoded.isascii()
    assert _same(json.loads(encoded), value)


@given(st.text())
def test_strings_match_python_escaping_except_slash_and_del(text):
    # Python escapes DEL as \u007f (only where the backslash itself is not escaped).
    expected = re.sub(r"(?<!\\)((?:\\\\)*)\\u007f", "\\1\x7f", json.dumps(text))
    expected = expected.replace("/", "\\/")
    assert php_json_encode(text) == expected.encode()
