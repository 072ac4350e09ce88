"""SQLAlchemy 2 async models and queries, one module per feature."""
