"""Identity rules shared by every service (see ../shared/design/EVENTS.md)."""
from __future__ import annotations

import hashlib


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def customer_key(store_id: str, customer_id: int | None, email: str | None) -> str:
    """Registered customers by id; guests (id 0) by the sha256 of their normalized email."""
    if customer_id:
        return f"{store_id}:c{int(customer_id)}"
    digest = hashlib.sha256(normalize_email(email).encode()).hexdigest()
    return f"{store_id}:e{digest}"


def product_key(store_id: str, product_id: int) -> str:
    return f"{store_id}:p{int(product_id)}"
