import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from accounts.models import User
from tenants.models import Client, Domain
from tenants.services import tenant_provision
from tests.support.tenants import PASSWORD

BAD_SLUGS = {
    "ab": "3 to 30",
    "x" * 31: "3 to 30",
    "Acme2": "lowercase",
    "1acme": "start with a letter",
    "acme-": "start with a letter",
    "ac--me": "single hyphens",
    "under_score": "single hyphens",
    "with space": "single hyphens",
    "'; DROP SCHEMA public; --": "lowercase",
    "www": "reserved",
    "admin": "reserved",
    "api": "reserved",
    "static": "reserved",
    "public": "reserved",
    "": "Choose a subdomain",
}


def _nothing_created(slug: str) -> bool:
    return (
        not Client.objects.filter(slug=slug).exists()
        and not Domain.objects.filter(domain__startswith=f"{slug}.").exists()
        and not schema_exists(slug)
    )


def test_service_creates_working_tenant(tenants, db, client):
    result = tenant_provision(
        slug="initech", name="Initech", owner_email="Bill@Initech.example", owner_password=PASSWORD
    )
    assert schema_exists("initech")
    assert result.domain.domain == "initech.localhost" and result.domain.is_primary
    with schema_context("initech"):
        owner = User.objects.get()
        assert owner.email == "bill@initech.example" and owner.is_owner
    http = client.__class__(HTTP_HOST="initech.localhost")
    response = http.post(
        "/accounts/login/", {"username": "bill@initech.example", "password": PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert response.context["user"].is_authenticated
    assert b"Initech" in response.content


@pytest.mark.parametrize(("slug", "message"), BAD_SLUGS.items())
def test_service_rejects_bad_slugs_and_leaves_nothing(tenants, db, slug, message):
    with pytest.raises(ValidationError) as exc:
        tenant_provision(slug=slug, name="Bad", owner_email="a@b.example", owner_password=PASSWORD)
    assert any(message in m for m in exc.value.message_dict["slug"])
    if slug and slug != "public":
        assert _nothing_created(slug)


def test_service_rejects_taken_slug(tenants, db):
    with pytest.raises(ValidationError) as exc:
        tenant_provision(slug="acme", name="Acme 2", owner_email="a@b.example", owner_password=PASSWORD)
    assert exc.value.message_dict["slug"] == ["This subdomain is already taken."]
    assert Client.objects.filter(slug="acme").count() == 1


def test_service_rejects_weak_password_and_bad_email(tenants, db):
    with pytest.raises(ValidationError) as exc:
        tenant_provision(slug="weakco", name="Weak", owner_email="not-an-email", owner_password="123")
    errors = exc.value.message_dict
    assert "owner_email" in errors and "owner_password" in errors
    assert _nothing_created("weakco")


def test_failure_after_schema_creation_rolls_everything_back(tenants, db, monkeypatch):
    """The owner insert fails after the schema exists: nothing may remain."""

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(User.objects, "create_user", boom)
    with pytest.raises(RuntimeError):
        tenant_provision(slug="halfway", name="Half", owner_email="a@b.example", owner_password=PASSWORD)
    connection.set_schema_to_public()
    assert _nothing_created("halfway")


def test_command_provisions_tenant(tenants, db, capsys):
    call_command(
        "provision_tenant",
        "hooli",
        "--name",
        "Hooli",
        "--owner-email",
        "gavin@hooli.example",
        "--owner-password",
        PASSWORD,
    )
    assert "Created tenant hooli at http://hooli.localhost/" in capsys.readouterr().out
    assert schema_exists("hooli")


@pytest.mark.parametrize(
    ("slug", "password", "message"),
    [
        ("www", PASSWORD, "slug: This subdomain is reserved."),
        ("Bad_Slug", PASSWORD, "slug: Use lowercase letters only."),
        ("goodslug", "short", "owner_password: This password is too short."),
    ],
)
def test_command_rejects_bad_input_with_clear_message(tenants, db, slug, password, message):
    with pytest.raises(CommandError) as exc:
        call_command(
            "provision_tenant",
            slug,
            "--name",
            "X",
            "--owner-email",
            "x@y.example",
            "--owner-password",
            password,
        )
    assert message in str(exc.value)
    assert not Client.objects.filter(slug=slug.lower()).exists()


def test_command_requires_its_arguments(tenants, db):
    with pytest.raises(CommandError, match="--owner-email"):
        call_command("provision_tenant", "nameless", "--name", "X")


def test_signup_form_creates_tenant_and_the_owner_arrives_signed_in(tenants, db, client):
    public = client.__class__(HTTP_HOST="localhost")
    response = public.post(
        "/signup/",
        {
            "name": "Vandelay",
            "slug": "vandelay",
            "owner_email": "art@vandelay.example",
            "owner_password": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith("http://vandelay.localhost/accounts/welcome/?t=")
    assert schema_exists("vandelay")
    owner = client.__class__(HTTP_HOST="vandelay.localhost")
    landed = owner.get(response["Location"].removeprefix("http://vandelay.localhost"), follow=True)
    assert landed.status_code == 200 and landed.redirect_chain[-1][0] == "/"
    assert (
        b"art@vandelay.example" in landed.content
    )  # signed in on the new host (tests/accounts/test_signup.py)


@pytest.mark.parametrize(
    ("slug", "password", "message"),
    [
        ("acme", PASSWORD, b"This subdomain is already taken."),
        ("admin", PASSWORD, b"This subdomain is reserved."),
        ("newco", "password", b"This password is too common."),
    ],
)
def test_signup_form_shows_field_errors(tenants, db, client, slug, password, message):
    public = client.__class__(HTTP_HOST="localhost")
    response = public.post(
        "/signup/",
        {"name": "New Co", "slug": slug, "owner_email": "n@new.example", "owner_password": password},
    )
    assert response.status_code == 400
    assert message in response.content
    assert Client.objects.filter(slug=slug).count() == (1 if slug == "acme" else 0)
