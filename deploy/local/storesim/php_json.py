"""Byte-exact PHP ``json_encode`` (as used by ``wp_json_encode``) for the store simulator.

WooCommerce signs ``trim(wp_json_encode($payload))`` and WordPress serves REST responses the
same way, so the simulator must produce the very bytes PHP would. Python's ``json.dumps``
differs where it matters for signatures and for consumers that read raw bytes:

* PHP escapes ``/`` as ``\\/`` by default (no ``JSON_UNESCAPED_SLASHES``);
* floats: PHP >= 7.1 prints the shortest round-trip digits (``serialize_precision = -1``)
  through ``php_gcvt``: ``90.0`` -> ``90`` (no ``JSON_PRESERVE_ZERO_FRACTION``),
  ``1e-05`` -> ``1.0e-5``, ``1e+20`` -> ``1.0e+20``, ``-0.0`` -> ``-0``;
* no spaces after ``,`` or ``:``.

Strings follow php_json_escape_string(): ``"`` ``\\`` ``/`` and control characters are
escaped (``\\b \\f \\n \\r \\t``, else ``\\u00XX``), non-ASCII becomes ``\\uXXXX`` (lowercase
hex, surrogate pairs for astral characters); DEL (0x7f) stays raw, unlike Python's
``ensure_ascii``.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

__all__ = ["php_json_encode", "php_float"]

# php_gcvt() switches to exponent form when the decimal point position is outside this range
# (precision is 17 in mode 0, see main/snprintf.c).
_PHP_PRECISION = 17


def php_float(value: float) -> str:
    """Format a float exactly like PHP's json_encode with serialize_precision = -1."""
    if math.isnan(value) or math.isinf(value):
        # json_encode() fails (JSON_ERROR_INF_OR_NAN) and wp_json_encode() returns false.
        raise ValueError("PHP json_encode cannot encode NAN or INF")
    if value == 0.0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    # repr() gives the shortest round-trip digits (same dtoa mode 0 that PHP uses).
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    # decpt: position of the decimal point relative to the digit string (value = 0.DIGITS e decpt).
    decpt = len(digit_tuple) + exponent
    prefix = "-" if sign else ""
    if decpt < -3 or decpt > _PHP_PRECISION:
        exp = decpt - 1
        mantissa = digits[0] + "." + (digits[1:] or "0")
        return f"{prefix}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp)}"
    if decpt <= 0:
        return f"{prefix}0.{'0' * -decpt}{digits}"
    if len(digits) <= decpt:
        return prefix + digits + "0" * (decpt - len(digits))
    return f"{prefix}{digits[:decpt]}.{digits[decpt:]}"


_SHORT = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n",
          "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\/\x80-\U0010ffff]')


def _escape(match: re.Match) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:  # not valid UTF-8: json_encode() fails (JSON_ERROR_UTF8)
        raise ValueError("lone surrogate cannot be PHP-json-encoded")
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def _string(value: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape, value) + '"'


def _key(key: Any) -> str:
    if isinstance(key, bool):  # PHP array keys: true -> 1, false -> 0
        return _string(str(int(key)))
    if isinstance(key, (str, int)):
        return _string(str(key))
    raise TypeError(f"unsupported JSON object key: {key!r}")


def _encode(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(php_float(value))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, dict):
        out.append("{")
        for i, (k, v) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(_key(k))
            out.append(":")
            _encode(v, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _encode(v, out)
        out.append("]")
    else:
        raise TypeError(f"cannot PHP-json-encode {type(value).__name__}")


def php_json_encode(obj: Any) -> bytes:
    """Return ``trim(wp_json_encode(obj))`` as bytes (pure ASCII)."""
    out: list[str] = []
    _encode(obj, out)
    return "".join(out).encode("ascii")
