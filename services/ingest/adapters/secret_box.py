"""SecretBox: store secrets (webhook secrets, REST consumer key and secret) encrypted at rest with
Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`), under keys that can rotate.

The keys (AFTERCART_INGEST_SECRETS_KEYS) come newest first: the first encrypts, every one decrypts
(MultiFernet). Each stores row records which key sealed it by a fingerprint (`key_id`: a hash of
the key, which says nothing about it), so PgStores.reseal finds the rows still in plain text or
under an older key without decrypting every row.
"""
from __future__ import annotations

import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from prometheus_client import Counter

# Decryptions happen when the store lookup cache fills, not per delivery: this rate shows it.
DECRYPTED = Counter("ingest_store_secrets_decrypted_total", "Store secrets decrypted (cache fills, API reads)")


class SecretUnreadable(Exception):
    """A stored secret that none of the configured keys decrypts (its key was removed too early)."""


def key_id(key: str) -> str:
    return hashlib.sha256(b"aftercart-ingest-secrets:" + key.encode()).hexdigest()[:16]


class SecretBox:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("SecretBox needs at least one key")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        self.key_id = key_id(keys[0])  # the key new values are sealed with

    def seal(self, value: str | None) -> str | None:
        return None if value is None else self._fernet.encrypt(value.encode()).decode()

    def open(self, token: str | None) -> str | None:
        if token is None:
            return None
        DECRYPTED.inc()
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("no configured key decrypts this secret") from None
