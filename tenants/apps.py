from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the command-override check)
        from .models import Client, Domain
        from .routing import routes_changed

        # Any change to who owns which host drops the routing table (tenants/routing.py).
        for model in (Client, Domain):
            post_save.connect(
                routes_changed, sender=model, dispatch_uid=f"routes_changed_save_{model.__name__}"
            )
            post_delete.connect(
                routes_changed, sender=model, dispatch_uid=f"routes_changed_delete_{model.__name__}"
            )
