"""Database routing. StatsRouter must come before django-tenants' TenantSyncRouter,
which answers False for every alias but the tenant one."""

from django.conf import settings

STATS_APP_LABEL = "usage_stats"


class StatsRouter:
    """Pins the usage_stats app to the `stats` alias, and nothing else to it."""

    def db_for_read(self, model, **hints):
        if model._meta.app_label == STATS_APP_LABEL:
            return settings.STATS_DB_ALIAS
        return None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        labels = {obj1._meta.app_label, obj2._meta.app_label}
        if STATS_APP_LABEL in labels:
            return labels == {STATS_APP_LABEL}
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db == settings.STATS_DB_ALIAS:
            return app_label == STATS_APP_LABEL
        if app_label == STATS_APP_LABEL:
            return False
        return None
