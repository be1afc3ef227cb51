"""Who may see and change what: the user's teams and role, and the one scoping helper every area builds on.

An object of a team the user is not in is a 404 (never 403), so ids do not reveal what exists; a member whose
role is too low gets 403 (they can see the object already).
"""
from __future__ import annotations

from django.core.exceptions import BadRequest, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import ROLE_RANK, Membership, Role, Team


def teams_for(user, min_role: str = Role.VIEWER) -> QuerySet[Team]:
    roles = [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK[min_role]]
    return Team.objects.filter(memberships__user=user, memberships__role__in=roles)


def scoped(queryset: QuerySet, user, min_role: str = Role.VIEWER, team: str = "team") -> QuerySet:
    """The rows of ``queryset`` whose team (the lookup ``team``) is one where the user has ``min_role`` or more."""
    return queryset.filter(**{f"{team}__in": teams_for(user, min_role)})


def get_scoped(queryset: QuerySet, user, pk: int, min_role: str = Role.VIEWER, team: str = "team") -> Model:
    """One object of ``scoped``: 404 when it is not one of the user's (or not there at all)."""
    return get_object_or_404(scoped(queryset, user, min_role, team), pk=pk)


def role_in(user, team: Team) -> str | None:
    return Membership.objects.filter(user=user, team=team).values_list("role", flat=True).first()


def require_role(user, team: Team, min_role: str) -> str:
    """The user's role in the team: 404 for outsiders, 403 when it is below ``min_role``."""
    role = role_in(user, team)
    if role is None:
        raise Http404("not found")
    if ROLE_RANK[role] < ROLE_RANK[min_role]:
        raise PermissionDenied(f"your role in {team.name} is {role}; this needs {min_role}")
    return role


def posted_id(value: str | None, what: str) -> int:
    """An id sent in a form or query, as an int; a 400 saying which value is wrong when it is not one."""
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise BadRequest(f"{what} must be the number of one of your {what}s")
    return int(text)
