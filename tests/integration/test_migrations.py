"""Migrations are applied once, in order, and running them again (or concurrently) is harmless."""
import asyncio
from pathlib import Path

from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool


async def test_migrations_apply_once_even_concurrently(stack, uid, tmp_path: Path):
    (tmp_path / "001_a.sql").write_text(f"CREATE TABLE mig_{uid} (id int);")
    (tmp_path / "002_b.sql").write_text(f"INSERT INTO mig_{uid} VALUES (1);")
    pool = await create_pool(stack.service_dsn("scratch"), 1, 4)
    try:
        first, second = await asyncio.gather(apply_migrations(pool, tmp_path, f"m{uid}"),
                                             apply_migrations(pool, tmp_path, f"m{uid}"))
        assert sorted(first + second) == [f"m{uid}/001_a", f"m{uid}/002_b"]
        assert await apply_migrations(pool, tmp_path, f"m{uid}") == []
        assert await pool.fetchval(f"SELECT count(*) FROM mig_{uid}") == 1
    finally:
        await pool.execute(f"DROP TABLE IF EXISTS mig_{uid}")
        await pool.close()
