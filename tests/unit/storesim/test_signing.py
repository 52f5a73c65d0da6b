"""X-WC-Webhook-Signature: base64(HMAC-SHA256(secret, raw body)), checked on all 4 vectors."""
from __future__ import annotations

import pytest

from deploy.local.storesim.signing import delivery_id, sign, verify

from tests.support.storesim import fixture

VECTORS = fixture("derived/signature-test-vectors.json")["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=[str(i + 1) for i in range(len(VECTORS))])
def test_signature_vectors(vector):
    signature = sign(vector["secret"], vector["body"].encode())
    assert signature == vector["x_wc_webhook_signature"]
    assert len(signature) == 44 and signature.endswith("=")
    assert verify(vector["secret"], vector["body"].encode(), vector["x_wc_webhook_signature"])


def test_woocommerce_unit_test_vector():
    assert sign("", b"secret") == "GBDo00G55h6IiV+6CxqivQPLbI//KzaOZm747971tPs="


def test_reserialising_breaks_the_signature():
    escaped, plain = VECTORS[2], VECTORS[3]
    assert escaped["x_wc_webhook_signature"] != plain["x_wc_webhook_signature"]
    assert not verify("my-webhook-secret", plain["body"].encode(), escaped["x_wc_webhook_signature"])
    assert not verify("wrong", escaped["body"].encode(), escaped["x_wc_webhook_signature"])


def test_delivery_id_is_32_hex_and_repeats_within_a_second():
    first = delivery_id(142, 1_750_000_000, "salt")
    assert len(first) == 32 and int(first, 16) >= 0 and first == first.lower()
    assert delivery_id(142, 1_750_000_000, "salt") == first
    assert delivery_id(142, 1_750_000_001, "salt") != first
    assert delivery_id(143, 1_750_000_000, "salt") != first
