from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Teams, memberships, roles and API tokens."""

    name = "accounts"
