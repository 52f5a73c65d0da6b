"""What a weak webhook secret is (issue 15, point 1): accepted, but answered with weak_secret."""
from __future__ import annotations

import pytest

from services.ingest.domain.stores import MAX_SECRET, secret_warnings, secret_weakness


@pytest.mark.parametrize("secret,why", [
    ("k", "short"), ("fifteen-chars-x", "short"), ("a" * 40, "low_entropy"), ("abababababababababab", "low_entropy"),
    ("abcdefghijklmnopqr", "low_entropy"),  # one class, under 24
    ("0123456789012345678", "low_entropy"), ("ssssk3Y-k3Y-k3Y-k3Y-", "low_entropy"),
])
def test_weak_secrets_say_why(secret, why):
    assert secret_weakness(secret) == why
    assert secret_warnings(secret) == ["weak_secret"]


@pytest.mark.parametrize("secret", ["secret-abc123-abcdefghij", "Tr0ub4dor&3-horse-battery", "x7Kp2mQ9vL4nR8sT",
                                    "abcdefghijklmnopqrstuvwxyz"])
def test_strong_secrets_have_no_warning(secret):
    assert secret_weakness(secret) is None and secret_warnings(secret) == []


def test_the_maximum_is_sane():
    assert MAX_SECRET == 256
