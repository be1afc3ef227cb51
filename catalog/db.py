"""Database upkeep the catalog needs."""
from django.db import connection


def refresh_planner_stats() -> None:
    """After bulk changes, let the database re-measure the clip table: with fresh statistics it picks the
    right index for a filtered, sorted clip table (SQLite, measured: 256 ms -> 129 ms for a two-range filter
    at 100,000 clips).  PostgreSQL's autovacuum would get there too, but only minutes after a large import."""
    from .models import Clip

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
        elif connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Clip._meta.db_table)}")
