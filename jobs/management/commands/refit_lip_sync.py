"""python manage.py refit_lip_sync --dataset ID: refit the lip-sync audio-to-mouth model on a dataset now."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = ("Refit the lip-sync audio-to-mouth model on a dataset's clips and adopt it when it scores better than "
            "the shipped model on held-out videos (what finished videos trigger as the dataset grows).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", type=int, required=True, help="the dataset's id")

    def handle(self, *args, **opts) -> None:
        from catalog.models import Dataset
        from jobs.lip_sync_refit import refit_dataset

        if not Dataset.objects.filter(pk=opts["dataset"]).exists():
            raise CommandError(f"no dataset {opts['dataset']}", returncode=2)
        reason = refit_dataset(opts["dataset"])
        state = Dataset.objects.get(pk=opts["dataset"]).lip_sync_model
        self.stdout.write(f"dataset {opts['dataset']}: {reason} (refit {state.get('own_score')}, shipped "
                          f"{state.get('shipped_score')}, {state.get('clips')} clips, held out videos "
                          f"{', '.join(state.get('held_out_videos') or []) or 'none'})")
