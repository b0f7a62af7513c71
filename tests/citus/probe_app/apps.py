from django.apps import AppConfig


class ProbeAppConfig(AppConfig):
    """A tenant app for one test only (tests/citus/test_migrate.py): its second migration adds
    a column and an index to a table of every tenant schema."""

    name = "tests.citus.probe_app"
    label = "citus_probe"
    default_auto_field = "django.db.models.BigAutoField"
