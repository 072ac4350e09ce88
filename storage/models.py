"""Every model module, imported so `Base.metadata` is complete (Alembic, tests)."""

from storage import audit, caseload, children, events, ledger, org
from storage.db import Base

__all__ = ["Base", "audit", "caseload", "children", "events", "ledger", "org"]
