"""Create the first administrator once, with a generated password, and say how to log in."""
from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Create user 'admin' with a random password if no superuser exists, with a team 'My lab' and a "
            "dataset 'First dataset'; print the credentials.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default=os.environ.get("ADMIN_USERNAME", "admin"))

    def handle(self, *args, **opts) -> None:
        users = get_user_model()
        password_file = settings.DATA_DIR / "initial_admin_password.txt"
        if users.objects.filter(is_superuser=True).exists():
            hint = f" (initial password in {password_file})" if password_file.exists() else ""
            self.stdout.write(f"Log in with your existing administrator account{hint}.")
            return
        password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        admin = users.objects.create_superuser(opts["username"], email="", password=password)
        from accounts.models import Membership, Role, Team
        from catalog.models import Dataset

        team, _ = Team.objects.get_or_create(name="My lab")  # so the first log-in can upload straight away
        Membership.objects.get_or_create(team=team, user=admin, defaults={"role": Role.ADMIN})
        Dataset.objects.get_or_create(team=team, name="First dataset", defaults={"created_by": admin})
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"user name: {opts['username']}\npassword: {password}\n")
        self.stdout.write(f"Created administrator '{opts['username']}' with password: {password}")
        self.stdout.write(f"(also saved in {password_file}; change it under Admin > Users)")
