"""The in-memory review requests and catalogue keep the PostgreSQL adapters' contract (the same
suites run against PostgreSQL in tests/integration/reviews)."""
from __future__ import annotations

from shared.testing import Clock
from tests.support.fakes.reviews import MemoryProducts, MemoryReviewRequests, MemoryReviews, MemoryStoreSettings
from tests.unit.reviews.requests_contract import (check_products_contract, check_requests_contract,
                                                check_publication_contract, check_reviews_contract,
                                                check_store_settings_contract)


async def test_memory_requests_keep_the_contract(uid):
    await check_requests_contract(MemoryReviewRequests(now=Clock().now), f"s{uid}")


async def test_memory_products_keep_the_contract(uid):
    await check_products_contract(MemoryProducts(), f"s{uid}")


async def test_memory_reviews_keep_the_contract(uid):
    await check_reviews_contract(MemoryReviewRequests(now=Clock().now), MemoryReviews(), f"s{uid}")


async def test_memory_publication_keeps_the_contract(uid):
    await check_publication_contract(MemoryReviewRequests(now=Clock().now), MemoryReviews(), f"s{uid}")


async def test_memory_store_settings_keep_the_contract(uid):
    await check_store_settings_contract(MemoryStoreSettings(), f"s{uid}")
