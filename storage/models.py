"""Every model module, imported so `Base.metadata` is complete (Alembic, tests)."""

from storage import audit, caseload, children, desks, events, ledger, mapping, oauth, org, visits, worries
from storage.db import Base

__all__ = [
    "Base",
    "audit",
    "caseload",
    "children",
    "desks",
    "events",
    "ledger",
    "mapping",
    "oauth",
    "org",
    "visits",
    "worries",
]
