"""Re-scoring a dataset from its clips' stored QC values: new weights, no video touched."""
from __future__ import annotations

from django.db import connection, transaction

from catalog.models import Clip, Dataset, clips_changed
from pipeline.quality.scoring import score


def rescore(dataset: Dataset, weights: dict[str, float] | None) -> int:
    """Set every clip's quality_score from its stored ``quality`` with ``weights`` (None: the default preset).

    One read of (id, quality) and one executemany UPDATE: 100,000 clips take
    seconds (bench/rescore_bench.py), with one short write transaction.
    """
    rows = Clip.objects.filter(dataset=dataset).values_list("id", "quality").iterator(chunk_size=5000)
    updates = [(score(quality or {}, weights), pk) for pk, quality in rows]
    table = connection.ops.quote_name(Clip._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET quality_score = %s WHERE id = %s", updates)
        clips_changed(dataset.pk)
    return len(updates)
