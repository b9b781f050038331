"""Queries by aggregate. Repositories add, query and flush; they never commit (the unit of work does)."""
