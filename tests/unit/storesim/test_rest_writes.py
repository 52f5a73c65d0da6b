"""POST /coupons, POST /products/reviews and the /webhooks management endpoints."""
from __future__ import annotations

from tests.support.storesim import API, api_client, fixture

BASE = "https://demo-store.example/wp-json/wc/v3"


async def test_create_coupon_has_the_docs_shape(store):
    events = []
    store.subscribe(lambda topic, arg: events.append((topic, arg)))
    async with api_client(store) as client:
        response = await client.post(API + "/coupons", json={
            "code": "THANKS-ANA", "amount": "10", "discount_type": "percent",
            "individual_use": True, "usage_limit": 1, "email_restrictions": ["Ana@Example.com"],
            "date_expires": "2025-07-02T00:00:00"})
        listed = await client.get(API + "/coupons", params={"code": "thanks-ana"})
    body = response.json()
    assert response.status_code == 201
    assert list(body) == list(fixture("coupon.v3.docs.json"))
    assert body["code"] == "thanks-ana"  # wc_format_coupon_code() lower-cases
    assert body["amount"] == "10.00" and body["discount_type"] == "percent"
    assert body["usage_limit"] == 1 and body["individual_use"] is True
    assert body["email_restrictions"] == ["ana@example.com"]
    assert body["date_expires"] == "2025-07-02T00:00:00"
    assert body["minimum_amount"] == "0.00" and body["maximum_amount"] == "0.00"
    assert response.headers["Location"] == f"{BASE}/coupons/{body['id']}"
    assert [c["id"] for c in listed.json()] == [body["id"]]
    assert events == [("coupon.created", body["id"])]


async def test_coupon_errors(store):
    async with api_client(store) as client:
        missing = await client.post(API + "/coupons", json={"amount": "5"})
        first = await client.post(API + "/coupons", json={"code": "dup"})
        duplicate = await client.post(API + "/coupons", json={"code": "DUP "})
        bad_type = await client.post(API + "/coupons", json={"code": "x", "discount_type": "bogo"})
        bad_json = await client.post(API + "/coupons", content=b"{nope",
                                     headers={"Content-Type": "application/json"})
    assert missing.status_code == 400
    assert missing.json() == {"code": "rest_missing_callback_param",
                              "message": "Missing parameter(s): code",
                              "data": {"status": 400, "params": ["code"]}}
    assert first.status_code == 201
    assert duplicate.status_code == 400
    assert duplicate.json()["code"] == "woocommerce_rest_coupon_code_already_exists"
    assert bad_type.json()["data"]["params"]["discount_type"] == \
        "discount_type is not one of percent, fixed_cart, and fixed_product."
    assert bad_json.json()["code"] == "rest_invalid_json"


async def test_create_review(store):
    product = store.create_product("Woo Album #1", "9.00")
    customer = store.create_customer("ana@example.com", "Ana", "Silva")
    order = store.create_order([(product["id"], 1)], customer_id=customer["id"])
    store.pay_order(order["id"])
    modified_before = store.products[product["id"]]["date_modified_gmt"]
    review = {"product_id": product["id"], "review": "Nice album!", "reviewer": "Ana Silva",
              "reviewer_email": "ana@example.com", "rating": 5}
    async with api_client(store) as client:
        created = await client.post(API + "/products/reviews", json=review)
        duplicate = await client.post(API + "/products/reviews", json=review)
        listed = await client.get(API + "/products/reviews", params={"product": product["id"]})
    body = created.json()
    assert created.status_code == 201
    assert created.headers["Location"] == f"{BASE}/products/reviews/{body['id']}"
    expected_keys = list(fixture("product-review.v3.docs.json"))
    expected_keys[4:4] = ["product_name", "product_permalink"]  # added by current WC
    assert list(body) == expected_keys
    assert body["review"] == "Nice album!" and body["rating"] == 5 and body["status"] == "approved"
    assert body["verified"] is True  # bought the product (add_comment_purchase_verification)
    assert body["_links"]["up"] == [{"href": f"{BASE}/products/{product['id']}"}]
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "woocommerce_rest_comment_duplicate"
    assert [r["review"] for r in listed.json()] == ["<p>Nice album!</p>\n"]
    assert store.products[product["id"]]["rating_count"] == 1
    assert store.products[product["id"]]["average_rating"] == "5.00"
    assert store.products[product["id"]]["date_modified_gmt"] > modified_before


async def test_review_errors(store):
    product = store.create_product("Tee", "20")
    async with api_client(store) as client:
        unknown = await client.post(API + "/products/reviews", json={
            "product_id": 999, "review": "x", "reviewer": "A", "reviewer_email": "a@example.com"})
        missing = await client.post(API + "/products/reviews", json={"product_id": product["id"]})
        empty = await client.post(API + "/products/reviews", json={
            "product_id": product["id"], "review": "", "reviewer": "A", "reviewer_email": "a@example.com"})
        stranger = await client.post(API + "/products/reviews", json={
            "product_id": product["id"], "review": "ok", "reviewer": "A", "reviewer_email": "a@example.com"})
    assert unknown.status_code == 404
    assert unknown.json() == {"code": "woocommerce_rest_product_invalid_id",
                              "message": "Invalid product ID.", "data": {"status": 404}}
    assert missing.status_code == 400
    assert missing.json()["data"]["params"] == ["review", "reviewer", "reviewer_email"]
    assert empty.json()["code"] == "woocommerce_rest_review_content_invalid"
    assert stranger.json()["verified"] is False


async def test_webhook_management(store):
    pinged = []

    async def ping(hook):  # like WebhookSender.send_ping() answered with 200
        pinged.append(hook.id)
        hook.pending_delivery = False
        return 200

    async with api_client(store, ping=ping) as client:
        created = await client.post(API + "/webhooks", json={
            "name": "Aftercart orders", "topic": "order.updated",
            "delivery_url": "https://aftercart.example/webhooks/woocommerce", "secret": "s3cret"})
        hook_id = created.json()["id"]
        hook = store.webhooks[hook_id]
        hook.status = "disabled"  # as after 7 failed deliveries
        hook.failure_count = 6
        disabled = await client.get(API + "/webhooks", params={"status": "disabled"})
        active = await client.get(API + "/webhooks", params={"status": "active"})
        reenabled = await client.put(API + f"/webhooks/{hook_id}", json={"status": "active"})
        bad_status = await client.put(API + f"/webhooks/{hook_id}", json={"status": "on"})
        missing = await client.post(API + "/webhooks", json={"name": "x"})
        bad_topic = await client.post(API + "/webhooks", json={"topic": "order.exploded",
                                                               "delivery_url": "https://x.example/"})
        no_force = await client.delete(API + f"/webhooks/{hook_id}")
        forced = await client.delete(API + f"/webhooks/{hook_id}", params={"force": "true"})
        gone = await client.get(API + f"/webhooks/{hook_id}")
    body = created.json()
    assert created.status_code == 201
    assert list(body) == list(fixture("webhook-resource.v3.docs.json"))
    assert body["resource"] == "order" and body["event"] == "updated" and body["status"] == "active"
    assert body["hooks"] == ["woocommerce_update_order", "woocommerce_order_refunded",
                             "woocommerce_delete_order_refund"]
    assert "secret" not in body and b"s3cret" not in created.content
    assert hook.secret == "s3cret"
    assert pinged == [hook_id]  # create pings; re-enabling does not (pending_delivery is false)
    assert [h["id"] for h in disabled.json()] == [hook_id] and active.json() == []
    assert reenabled.json()["status"] == "active"
    assert hook.failure_count == 6  # re-enabling keeps the count
    assert bad_status.status_code == 400
    assert missing.json()["data"]["params"] == ["topic", "delivery_url"]
    assert bad_topic.json()["code"] == "woocommerce_rest_webhook_invalid_topic"
    assert no_force.status_code == 501
    assert forced.json()["id"] == hook_id and gone.status_code == 404


async def test_pending_webhook_is_pinged_again_on_save(store):
    pinged = []

    async def ping(hook):
        pinged.append(hook.id)  # the receiver never answers 200: pending_delivery stays

    async with api_client(store, ping=ping) as client:
        hook_id = (await client.post(API + "/webhooks", json={
            "topic": "order.created", "delivery_url": "https://a.example/"})).json()["id"]
        await client.put(API + f"/webhooks/{hook_id}", json={"name": "renamed"})
    assert pinged == [hook_id, hook_id]
    assert len(store.webhooks[hook_id].secret) == 50  # wp_generate_password(50, true, true)


async def test_delete_order_trashes_or_with_force_deletes_for_good(store):
    events = []
    product = store.create_product("Mug", "12.00")
    trashed = store.create_order([(product["id"], 1)], billing={"email": "ana@example.com"})
    purged = store.create_order([(product["id"], 1)], billing={"email": "bob@example.com"})
    store.subscribe(lambda topic, arg: events.append((topic, arg)))
    async with api_client(store) as client:
        to_trash = await client.delete(API + f"/orders/{trashed['id']}")
        again = await client.delete(API + f"/orders/{trashed['id']}")
        forced = await client.delete(API + f"/orders/{purged['id']}", params={"force": "true"})
        after = await client.get(API + f"/orders/{purged['id']}")
        missing = await client.delete(API + f"/orders/{purged['id']}", params={"force": "true"})
        bad = await client.delete(API + f"/orders/{trashed['id']}", params={"force": "maybe"})
    assert to_trash.status_code == 200 and to_trash.json()["status"] == "trash"
    assert again.status_code == 410 and again.json()["code"] == "woocommerce_rest_already_trashed"
    assert forced.status_code == 200 and forced.json()["id"] == purged["id"]
    assert after.status_code == 404 and after.json()["code"] == "woocommerce_rest_shop_order_invalid_id"
    assert missing.status_code == 404
    assert bad.status_code == 400 and trashed["id"] in store.orders
    assert events == [("order.deleted", trashed["id"])]  # a permanent delete fires no webhook
