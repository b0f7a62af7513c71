import pytest
from django.test import Client as HttpClient

from accounts.models import User
from tests.conftest import PASSWORD
from tests.support.factories import unique


@pytest.fixture
def staff_user(tenants, db) -> User:
    return User.objects.create_superuser(f"{unique('staff')}@example.com", PASSWORD)


@pytest.fixture
def staff(staff_user) -> HttpClient:
    """A staff member signed in to the staff admin on the base domain."""
    client = HttpClient(HTTP_HOST="localhost")
    client.force_login(staff_user)
    return client
