"""python manage.py import_dataset FOLDER --team T --dataset NAME: bring a headless make_dataset output in."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Team
from catalog.importer import import_folder, recording_folders
from catalog.models import Dataset
from pipeline.errors import PipelineError


class Command(BaseCommand):
    help = ("Import a make_dataset output folder (manifest.jsonl; a folder of many recordings: each of them) into a "
            "team's dataset (created if needed).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("folder")
        parser.add_argument("--team", required=True, help="team name")
        parser.add_argument("--dataset", required=True, help="dataset name (created in the team if missing)")

    def handle(self, *args, **opts) -> None:
        try:
            team = Team.objects.get(name=opts["team"])
        except Team.DoesNotExist:
            raise CommandError(f"no team named {opts['team']!r}; create it in the admin first", returncode=2) from None
        try:
            with transaction.atomic():  # a failed import leaves no empty dataset behind
                dataset, _ = Dataset.objects.get_or_create(team=team, name=opts["dataset"])
                results = [import_folder(dataset, folder) for folder in recording_folders(opts["folder"])]
        except PipelineError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(f"{dataset.name}: {sum(r.created for r in results)} clips added, "
                          f"{sum(r.updated for r in results)} updated from {sum(r.videos for r in results)} "
                          "source video(s)")
