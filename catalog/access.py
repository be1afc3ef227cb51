"""The catalog's objects scoped to the user's teams (accounts.access.scoped), one getter per object type.

Views import this one module for every permission question; the team-level helpers are accounts.access's,
named here so that a view needs no second import.
"""
from __future__ import annotations

from django.db.models import QuerySet

from accounts.access import get_scoped, posted_id, require_role, role_in, scoped, teams_for
from accounts.models import Role
from catalog.models import Clip, Dataset, Video

__all__ = ["clips_for", "datasets_for", "get_clip", "get_dataset", "get_video", "posted_id", "require_role",
           "role_in", "teams_for", "videos_for"]


def datasets_for(user, min_role: str = Role.VIEWER) -> QuerySet[Dataset]:
    return scoped(Dataset.objects.all(), user, min_role)


def videos_for(user, min_role: str = Role.VIEWER) -> QuerySet[Video]:
    return scoped(Video.objects.all(), user, min_role, "dataset__team")


def clips_for(user, min_role: str = Role.VIEWER) -> QuerySet[Clip]:
    return scoped(Clip.objects.all(), user, min_role, "dataset__team")


def get_dataset(user, pk: int, min_role: str = Role.VIEWER) -> Dataset:
    return get_scoped(Dataset.objects.select_related("team"), user, pk, min_role)


def get_clip(user, pk: int, min_role: str = Role.VIEWER) -> Clip:
    return get_scoped(Clip.objects.select_related("video", "dataset"), user, pk, min_role, "dataset__team")


def get_video(user, pk: int, min_role: str = Role.VIEWER) -> Video:
    return get_scoped(Video.objects.select_related("dataset__team"), user, pk, min_role, "dataset__team")
