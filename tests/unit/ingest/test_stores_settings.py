"""Ingest's settings for store secrets at rest: Fernet keys, newest first; the built-in development
key is refused outside development (like the API token), a malformed key is refused without
echoing it, and the store lookup cache has bounds."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from services.ingest.config import DEV_SECRETS_KEY, IngestSettings

TOKEN = "a-real-token-for-this-test-0123"


def test_the_built_in_secrets_key_is_for_development_only():
    assert IngestSettings(environment="development").secrets_key_list == [DEV_SECRETS_KEY]
    with pytest.raises(ValueError, match="AFTERCART_INGEST_SECRETS_KEYS"):
        IngestSettings(environment="production", api_token=TOKEN)
    # ... even kept as an old key next to a real one
    with pytest.raises(ValueError, match="development key"):
        IngestSettings(environment="production", api_token=TOKEN,
                       secrets_keys=f"{Fernet.generate_key().decode()},{DEV_SECRETS_KEY}")


def test_keys_come_newest_first_and_a_malformed_one_is_named_not_shown():
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    s = IngestSettings(environment="production", api_token=TOKEN, secrets_keys=f" {new} , {old} ")
    assert s.secrets_key_list == [new, old]
    assert new not in repr(s) and new not in str(s.model_dump())
    with pytest.raises(ValueError, match="key #2 is not a Fernet key") as refused:
        IngestSettings(environment="development", secrets_keys=f"{new},not-a-key-but-secret-ish")
    assert "secret-ish" not in str(refused.value)
    with pytest.raises(ValueError, match="at least one"):
        IngestSettings(environment="development", secrets_keys=" , ")


def test_the_store_cache_is_bounded_by_default():
    s = IngestSettings(environment="development")
    assert (s.store_cache_ttl_s, s.store_cache_max, s.store_cache_misses) == (5.0, 10_000, 1_024)
