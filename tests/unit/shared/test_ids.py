from shared.ids import customer_key, product_key


def test_registered_customers_are_keyed_by_id():
    assert customer_key("s1", 42, "A@b.c") == "s1:c42"


def test_guests_are_keyed_by_normalized_email_hash():
    k1 = customer_key("s1", 0, "  Jane.Doe@Example.COM ")
    k2 = customer_key("s1", 0, "jane.doe@example.com")
    assert k1 == k2 and k1.startswith("s1:e") and len(k1) == len("s1:e") + 64
    assert "jane" not in k1
    assert customer_key("s2", 0, "jane.doe@example.com") != k1


def test_product_key():
    assert product_key("s1", 7) == "s1:p7"
