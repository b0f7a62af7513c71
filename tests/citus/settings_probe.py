"""Test settings plus the probe tenant app (tests/citus/test_migrate.py runs manage.py with them)."""

from saas.settings.test import *  # noqa: F403
from saas.settings.test import INSTALLED_APPS, TENANT_APPS

TENANT_APPS = [*TENANT_APPS, "tests.citus.probe_app.apps.ProbeAppConfig"]
INSTALLED_APPS = [*INSTALLED_APPS, "tests.citus.probe_app.apps.ProbeAppConfig"]
