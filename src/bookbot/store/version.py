"""The default database and the schema's newest migration, with nothing imported.

A command's first lines read these; store/db.py (SQLAlchemy) and store/reader.py (sqlite3
alone) both check a database against HEAD.
"""

DEFAULT_URL = "sqlite+aiosqlite:///bookbot.db"
# The newest migration's revision: a current schema is told by one read of alembic_version,
# without loading Alembic and every migration script (a third of a command's start-up).
# tests/store/test_store.py checks that it is Alembic's head.
HEAD = "0023"
