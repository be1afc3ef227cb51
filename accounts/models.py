"""Teams, their members and roles, and API tokens: who may see and change what."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer (browse and download)"
    MEMBER = "member", "Member (also upload and edit)"
    ADMIN = "admin", "Admin (also manage members)"


ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2}


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="teams")

    class Meta:
        db_table = "catalog_team"  # made in catalog; moved here with its rows (0001)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        db_table = "catalog_membership"  # made in catalog; moved here with its rows (0001)
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class ApiToken(models.Model):
    """A key for scripts (curl -H "Authorization: Token KEY"); only its sha256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    class Scope(models.TextChoices):
        READ = "read", "read"
        UPLOAD = "upload", "read and upload"

    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)  # shown so a user can tell tokens apart
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "catalog_apitoken"  # made in catalog; moved here with its rows (0001)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
