"""Alembic migrations of the usage tables (version table
``usage_alembic_version``); run by :func:`..usage_schema.upgrade`."""
