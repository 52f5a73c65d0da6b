"""Text fields of WooCommerce payloads: trimmed, and None when empty or missing."""
from __future__ import annotations


def text_or_none(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
