"""Every catalog queryset is scoped to the user's teams here, one helper per object type.

A user asking for an object of another team gets 404 (never 403), so ids do not
reveal what exists.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import ROLE_RANK, Clip, Dataset, Membership, Role, Team, Video


def teams_for(user, min_role: str = Role.VIEWER) -> QuerySet[Team]:
    roles = [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK[min_role]]
    return Team.objects.filter(memberships__user=user, memberships__role__in=roles)


def datasets_for(user, min_role: str = Role.VIEWER) -> QuerySet[Dataset]:
    return Dataset.objects.filter(team__in=teams_for(user, min_role))


def videos_for(user, min_role: str = Role.VIEWER) -> QuerySet[Video]:
    return Video.objects.filter(dataset__in=datasets_for(user, min_role))


def clips_for(user, min_role: str = Role.VIEWER) -> QuerySet[Clip]:
    return Clip.objects.filter(dataset__in=datasets_for(user, min_role))


def role_in(user, team: Team) -> str | None:
    return Membership.objects.filter(user=user, team=team).values_list("role", flat=True).first()


def posted_id(value: str | None, what: str) -> int:
    """An id sent in a form or query, as an int; a 400 saying which value is wrong when it is not one."""
    from django.core.exceptions import BadRequest

    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise BadRequest(f"{what} must be the number of one of your {what}s")
    return int(text)


def get_dataset(user, pk: int, min_role: str = Role.VIEWER) -> Dataset:
    return get_object_or_404(datasets_for(user, min_role).select_related("team"), pk=pk)


def get_clip(user, pk: int, min_role: str = Role.VIEWER) -> Clip:
    return get_object_or_404(clips_for(user, min_role).select_related("video", "dataset"), pk=pk)


def get_video(user, pk: int, min_role: str = Role.VIEWER) -> Video:
    return get_object_or_404(videos_for(user, min_role).select_related("dataset__team"), pk=pk)


def require_role(user, team: Team, min_role: str) -> str:
    """404 for outsiders; 403 for members whose role is too low (they can see the object already)."""
    role = role_in(user, team)
    if role is None:
        raise Http404("not found")
    if ROLE_RANK[role] < ROLE_RANK[min_role]:
        raise PermissionDenied(f"your role in {team.name} is {role}; this needs {min_role}")
    return role
