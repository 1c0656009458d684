"""The accounting ledger: what the accounting knows and has sent, in SQL.

A SQLite file by default, MariaDB or PostgreSQL by URL (SQLAlchemy). The
extraction window, the usage intervals from notifications and the CPU-time
samples all live here, so one database backs up the whole accounting.
"""
