"""The tier of a test (tests/support/tiers.py), as tests/conftest.py assigns it."""

from contextlib import contextmanager

import pytest

from tests.support.chromium import chromium
from tests.support.gunicorn import gunicorn
from tests.support.live_server import live_server
from tests.support.pgbouncer import pgbouncer_running
from tests.support.tiers import TIER_ATTRIBUTE, helper_tiers, most_demanding, needs_tier


@needs_tier("live")
@contextmanager
def _server():
    yield


@needs_tier("browser")
def _browser():
    return None


def _wrapper():
    with _server():
        pass


def test_the_shared_helpers_declare_their_tiers():
    declared = {helper: getattr(helper, TIER_ATTRIBUTE) for helper in (gunicorn, live_server, chromium)}
    assert declared == {gunicorn: "live", live_server: "live", chromium: "browser"}
    assert getattr(pgbouncer_running, TIER_ATTRIBUTE) == "pgbouncer"


def test_the_most_demanding_tier_wins():
    assert most_demanding(["db", "live", "unit"]) == "live"
    assert most_demanding(iter(["live", "pgbouncer"])) == "pgbouncer"
    assert most_demanding(["browser", "soak"]) == "soak"
    assert most_demanding([]) is None


def test_helpers_are_found_directly_through_test_functions_and_in_nested_code():
    def direct():
        with _server():
            pass

    def transitive():
        _wrapper()

    def nested():
        return lambda: _browser()

    def neither():
        return len([])

    assert helper_tiers(direct) == {"live"}
    assert helper_tiers(transitive) == {"live"}
    assert helper_tiers(nested) == {"browser"}
    assert helper_tiers(neither) == set()


def test_an_unknown_tier_is_refused():
    with pytest.raises(AssertionError):
        needs_tier("kafka")


def test_a_test_without_database_or_server_is_unit(request):
    assert request.node.get_closest_marker("unit")
    assert not request.node.get_closest_marker("db")


def test_a_test_with_the_db_fixture_is_db(db, request):
    assert request.node.get_closest_marker("db")
    assert not request.node.get_closest_marker("unit")


@pytest.mark.live
def test_an_explicit_tier_wins(db, request):
    assert request.node.get_closest_marker("live")
    assert not request.node.get_closest_marker("db")
