"""PgReviewRequests and PgProducts against PostgreSQL, keeping the contract their in-memory twins
keep (tests/unit/reviews/requests_contract.py). Each suite runs in a transaction rolled back at the end."""
from __future__ import annotations

import pytest

from services.reviews.adapters.products import PgProducts
from services.reviews.adapters.review_requests import PgReviewRequests
from services.reviews.bootstrap import MIGRATIONS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from services.reviews.adapters.reviews import PgReviews
from services.reviews.adapters.store_settings import PgStoreSettings
from tests.unit.reviews.requests_contract import (check_products_contract, check_requests_contract,
                                                check_publication_contract, check_reviews_contract,
                                                check_store_settings_contract)


@pytest.fixture
async def pool(stack):
    pool = await create_pool(stack.service_dsn("reviews"), 1, 3)
    await apply_migrations(pool, MIGRATIONS, "reviews")
    yield pool
    await pool.close()


@pytest.mark.parametrize("adapter,contract", [(PgReviewRequests, check_requests_contract),
                                              (PgProducts, check_products_contract),
                                              (PgStoreSettings, check_store_settings_contract)],
                         ids=["requests", "products", "store settings"])
async def test_pg_adapters_keep_the_contract(pool, uid, adapter, contract):
    async with pool.acquire() as conn:
        tr = conn.transaction()
        await tr.start()
        try:
            await contract(adapter(conn), f"s{uid}")
        finally:
            await tr.rollback()  # nothing stays behind


async def test_pg_reviews_keep_the_contract(pool, uid):
    async with pool.acquire() as conn:
        tr = conn.transaction()
        await tr.start()
        try:
            await check_reviews_contract(PgReviewRequests(conn), PgReviews(conn), f"s{uid}")
        finally:
            await tr.rollback()


async def test_pg_publication_keeps_the_contract(pool, uid):
    async with pool.acquire() as conn:
        tr = conn.transaction()
        await tr.start()
        try:
            await check_publication_contract(PgReviewRequests(conn), PgReviews(conn), f"s{uid}")
        finally:
            await tr.rollback()
