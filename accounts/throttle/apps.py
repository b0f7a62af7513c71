from django.apps import AppConfig


class LoginThrottleConfig(AppConfig):
    """Failed sign-ins, counted in the public schema (shared-only app)."""

    name = "accounts.throttle"
    label = "login_throttle"
    verbose_name = "Login throttle"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the user_login_failed / user_logged_in receivers.
        from . import services  # noqa: F401
