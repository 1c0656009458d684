"""Alembic migrations of the extraction-state tables (version table
``accounting_alembic_version``); run by :func:`..state.upgrade`."""
