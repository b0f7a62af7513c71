import re

from django_tenants.utils import schema_context

from accounts.models import ApiToken
from tests.support.factories import make_person


def test_create_token_shows_secret_once_and_it_works(acme):
    client = acme.login()
    response = client.post("/accounts/tokens/", {"name": "deploy script"})
    assert response.status_code == 201
    raw = re.search(r'<code class="token" id="new-token">([^<]+)</code>', response.content.decode()).group(1)
    assert raw.startswith("th_")
    assert "Created token “deploy script”" in response.content.decode()
    with schema_context("acme"):
        token = ApiToken.objects.get(prefix=raw[:10])
        assert raw not in token.digest  # only a digest is stored
    api = acme.client()
    assert api.get("/api/v1/tasks", headers={"Authorization": f"Bearer {raw}"}).status_code == 200

    settings_page = client.get("/accounts/settings/")
    assert "deploy script" in settings_page.content.decode()
    assert raw not in settings_page.content.decode()


def test_token_name_errors(acme):
    client = acme.login()
    for name, message in [("", "This field is required."), ("x" * 101, "Ensure this value has at most 100")]:
        response = client.post("/accounts/tokens/", {"name": name})
        assert response.status_code == 400
        assert any(e.startswith(message) for e in response.context["token_form"].errors["name"])


def test_revoke_token(acme):
    client = acme.login()
    response = client.post("/accounts/tokens/", {"name": "temp"})
    raw = re.search(r'id="new-token">([^<]+)<', response.content.decode()).group(1)
    with schema_context("acme"):
        token = ApiToken.objects.get(prefix=raw[:10])
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/", follow=True)
    assert "Revoked token “temp”." in [str(m) for m in response.context["messages"]]
    assert acme.client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_cannot_revoke_someone_elses_token(acme):
    person = make_person(acme)
    client = acme.login(person.email)
    owner_response = acme.login().post("/accounts/tokens/", {"name": "owner's"})
    raw = re.search(r'id="new-token">([^<]+)<', owner_response.content.decode()).group(1)
    with schema_context("acme"):
        token = ApiToken.objects.get(prefix=raw[:10])
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert client.post("/accounts/tokens/99999999999999999999/revoke/").status_code == 404
    assert client.get(f"/accounts/tokens/{token.pk}/revoke/").status_code == 405
    with schema_context("acme"):
        token.refresh_from_db()
    assert token.revoked_at is None
