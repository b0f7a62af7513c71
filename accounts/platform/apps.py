from django.apps import AppConfig


class AccountsPlatformConfig(AppConfig):
    """Account tables of the public schema (shared-only app): the address -> organisation
    index behind "find my organisation", and the used sign-up hand-offs."""

    name = "accounts.platform"
    label = "accounts_platform"
    verbose_name = "Accounts (platform)"
    default_auto_field = "django.db.models.BigAutoField"
