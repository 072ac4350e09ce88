"""Dialect-aware INSERT ... ON CONFLICT DO NOTHING, for idempotent claims."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignore(session: AsyncSession, model: Any, values: dict[str, Any], conflict_on: list[str]) -> bool:
    """Insert a row unless one with the same key exists; True if this call inserted it."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_on)
    result: Any = await session.execute(stmt)
    return bool(result.rowcount)
