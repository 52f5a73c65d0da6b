"""Text fields of WooCommerce payloads: trimmed, and None when empty or missing; and control
characters, which no consumer should store (PostgreSQL refuses NUL outright; the others corrupt an
email or a page), stripped from every string of a payload — tab, newline and carriage return stay.

`may_hold_control_characters(body)` looks at the raw JSON first (a few µs): WooCommerce's PHP
escapes them as \\u00XX, orjson writes C1 controls and DEL as raw UTF-8. Only a body it flags is
walked by `without_control_characters` (a false alarm only costs that walk).
"""
from __future__ import annotations

import re

# C0 but tab, newline and carriage return; DEL; C1.
_CONTROLS = dict.fromkeys([*(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)), 0x7F, *range(0x80, 0xA0)])
_ESCAPED = re.compile(rb"\\(?:[bf]|u00(?:0[0-8bcefBCEF]|1[0-9a-fA-F]|7[fF]|[89][0-9a-fA-F]))")
_RAW_C1 = re.compile(rb"\xc2[\x80-\x9f]")


def text_or_none(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def may_hold_control_characters(body: bytes) -> bool:
    return (_ESCAPED.search(body) is not None or b"\x7f" in body
            or (b"\xc2" in body and _RAW_C1.search(body) is not None))


def without_control_characters(value: object) -> object:
    """A copy of a parsed JSON value with control characters removed from every string, keys
    included. Iterative: JSON may nest deeper than Python recurses."""
    if isinstance(value, str):
        return value.translate(_CONTROLS)
    if not isinstance(value, (dict, list)):
        return value
    root: dict | list = {} if isinstance(value, dict) else []
    stack: list[tuple[dict | list, dict | list]] = [(value, root)]
    while stack:
        source, target = stack.pop()
        for key, item in (source.items() if isinstance(source, dict) else enumerate(source)):
            if isinstance(item, (dict, list)):
                copy: object = {} if isinstance(item, dict) else []
                stack.append((item, copy))
            else:
                copy = item.translate(_CONTROLS) if isinstance(item, str) else item
            if isinstance(target, dict):
                target[key.translate(_CONTROLS) if isinstance(key, str) else key] = copy
            else:
                target.append(copy)
    return root
