"""Citus tests: run by `make test-citus` against scripts/citus.sh's coordinator and two
workers; anywhere else they skip, saying so."""

import pytest

from tests.support.citus import citus_required


@pytest.fixture(autouse=True)
def _citus(django_db_setup, django_db_blocker) -> None:
    with django_db_blocker.unblock():
        citus_required()
