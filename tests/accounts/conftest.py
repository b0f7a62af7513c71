import pytest

from tests.support.factories import make_person


@pytest.fixture
def acme_member(acme):
    return make_person(acme, full_name="Mia Member")


@pytest.fixture
def globex_member(globex):
    return make_person(globex, full_name="Gus Globex")
