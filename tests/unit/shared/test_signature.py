import json
from pathlib import Path

import pytest

from services.ingest.adapters.signature import sign, verify

VECTORS = Path(__file__).resolve().parents[2] / "fixtures/woocommerce/derived/signature-test-vectors.json"
if not VECTORS.exists():
    VECTORS = Path(__file__).resolve().parents[4] / "shared/woocommerce/payloads/derived/signature-test-vectors.json"


@pytest.mark.parametrize("v", json.loads(VECTORS.read_text())["vectors"])
def test_woocommerce_vectors(v):
    body = v["body"].encode()
    assert sign(v["secret"], body) == v["x_wc_webhook_signature"]
    if v["secret"]:
        assert verify([v["secret"]], body, v["x_wc_webhook_signature"])


def test_empty_secret_is_never_accepted():
    assert not verify([""], b"secret", "GBDo00G55h6IiV+6CxqivQPLbI//KzaOZm747971tPs=")
    assert not verify([], b"x", sign("", b"x"))


def test_rotation_overlap_accepts_either_secret_and_rejects_others():
    body = b'{"id":1}'
    assert verify(["new-secret-xxxxxxxx", "old-secret-xxxxxxxx"], body, sign("old-secret-xxxxxxxx", body))
    assert not verify(["new-secret-xxxxxxxx"], body, sign("old-secret-xxxxxxxx", body))
    assert not verify(["new-secret-xxxxxxxx"], body, None)
    assert not verify(["new-secret-xxxxxxxx"], body + b" ", sign("new-secret-xxxxxxxx", body))
