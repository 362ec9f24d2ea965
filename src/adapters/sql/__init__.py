"""sql adapters: results in MariaDB/MySQL or SQLite through SQLAlchemy Core."""
