from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform"

    def ready(self) -> None:
        # Registers the deploy and Citus-readiness system checks.
        from . import checks, deploy_checks  # noqa: F401
