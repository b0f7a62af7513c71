"""The tenants app overrides django-tenants' `migrate` and `migrate_schemas` (faster,
stats-aware). Django picks a command from the first app that has it, so the override
holds only while `tenants` is listed before `django_tenants`: fail loudly otherwise."""

from typing import Any

from django.core import checks
from django.core.management import get_commands

CHECK_COMMANDS_OVERRIDDEN = "tenants.E001"


@checks.register()
def commands_overridden_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    commands = get_commands()
    wrong = [name for name in ("migrate", "migrate_schemas") if commands.get(name) != "tenants"]
    if not wrong:
        return []
    return [
        checks.Error(
            f"{', '.join(wrong)} would not run this project's command.",
            hint="List 'tenants' before 'django_tenants' in SHARED_APPS.",
            id=CHECK_COMMANDS_OVERRIDDEN,
        )
    ]
