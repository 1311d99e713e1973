"""Persistence: tables, repositories, the unit of work, engines and migrations."""
