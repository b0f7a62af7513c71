import pytest

from tests.support.factories import make_person
from tests.support.live_server import live_server


@pytest.fixture
def acme_member(acme):
    return make_person(acme, full_name="Mia Member")


@pytest.fixture
def globex_member(globex):
    return make_person(globex, full_name="Gus Globex")


@pytest.fixture(scope="session")
def _live_server(tenants):
    with live_server() as server:
        yield server


@pytest.fixture
def live(_live_server, db):
    """The app on a loopback port. `db` makes sure the test database exists and
    unblocks database access, which pytest-django controls for every thread, the
    server's included. The server's threads see only committed data: create it
    through the server or with `committed()`."""
    return _live_server
