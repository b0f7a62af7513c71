from django.apps import AppConfig


class SaasConfig(AppConfig):
    name = "saas"
    verbose_name = "Platform"

    def ready(self) -> None:
        # Registers the deploy and Citus-readiness checks and connects the login-throttle signal receivers.
        from . import checks, deploy_checks, throttle  # noqa: F401
