"""Persistence: models, repositories that only flush, the unit of work, and Alembic migrations."""
