"""python manage.py recompute_quality --dataset ID: the new QC components for clips imported earlier."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = ("Recompute every clip's QC (jitter, lip sync, mouth activity, visual metrics, score) from the files "
            "already on disk; no re-upload, no re-cutting.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", type=int, action="append", help="dataset id (repeatable); default: all")

    def handle(self, *args, **opts) -> None:
        from catalog.models import Dataset
        from catalog.requalify import requalify_dataset
        from pipeline.errors import PipelineError

        datasets = Dataset.objects.all() if not opts["dataset"] else Dataset.objects.filter(pk__in=opts["dataset"])
        if opts["dataset"] and datasets.count() != len(set(opts["dataset"])):
            raise CommandError("no such dataset: " + ", ".join(map(str, set(opts["dataset"]) - set(datasets.values_list("pk", flat=True)))))
        for dataset in datasets:
            def progress(video, done: int, total: int) -> None:
                self.stdout.write(f"  {video.source_name}: {done}/{total} clips", ending="\r")
            try:
                count = requalify_dataset(dataset, progress)
            except (PipelineError, OSError) as exc:
                raise CommandError(f"{dataset.name}: {exc}") from None
            self.stdout.write(f"{dataset.name}: recomputed the QC of {count} clips")
