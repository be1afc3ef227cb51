"""Team pages: members and roles, managed by the team's admins."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Membership, Role, Team
from accounts import access


def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(access.teams_for(request.user), pk=pk)
    role = access.role_in(request.user, team)
    members = team.memberships.select_related("user").order_by("user__username")
    return render(request, "catalog/team_detail.html", {"team": team, "members": members, "roles": Role.choices,
                                                        "is_admin": role == Role.ADMIN})


def change_membership(team: Team, user, role: str, remove: bool) -> str | None:
    """Set or remove one membership; refused (with the reason) when it would leave the team without an admin.

    The check and the change happen under a lock on the team row, so two admins demoting each other
    at the same moment cannot both succeed (SQLite's IMMEDIATE transactions serialise the same way).
    """
    with transaction.atomic():
        Team.objects.select_for_update().filter(pk=team.pk).first()
        current = Membership.objects.filter(team=team, user=user).first()
        losing_admin = current is not None and current.role == Role.ADMIN and (remove or role != Role.ADMIN)
        if losing_admin and not team.memberships.filter(role=Role.ADMIN).exclude(user=user).exists():
            return "A team needs at least one admin."
        if remove:
            if current:
                current.delete()
        else:
            Membership.objects.update_or_create(team=team, user=user, defaults={"role": role})
    return None


@require_POST
def team_members(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a member, change a role or remove a member; the last admin cannot be removed or demoted."""
    team = get_object_or_404(access.teams_for(request.user), pk=pk)
    access.require_role(request.user, team, Role.ADMIN)
    username = request.POST.get("username", "").strip()
    role = request.POST.get("role", Role.VIEWER)
    action = request.POST.get("action", "set")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        messages.error(request, f"No user named {username!r}.")
        return redirect("team_detail", pk=team.pk)
    if role not in Role.values:
        messages.error(request, "Unknown role.")
        return redirect("team_detail", pk=team.pk)
    problem = change_membership(team, user, role, remove=action == "remove")
    if problem:
        messages.error(request, problem)
    elif action == "remove":
        messages.success(request, f"{username} removed.")
    else:
        messages.success(request, f"{username} is now {role}.")
    return redirect("team_detail", pk=team.pk)
