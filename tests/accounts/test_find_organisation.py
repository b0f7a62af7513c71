"""Find my organisation on the base domain: the mail lists exactly the organisations of that
address (from the public-schema index, kept by the services); the page is the same for an
unknown address, which gets no mail."""

from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from accounts.directory import account_index_organisations, account_index_rebuild, email_digest
from accounts.models import User
from accounts.platform.models import AccountIndexEntry
from accounts.services import user_activate, user_deactivate
from tenants.services import tenant_provision
from tests.support.factories import unique
from tests.support.tenants import PASSWORD


def _find(email: str, capture):
    client = HttpClient(HTTP_HOST="localhost")
    with capture(execute=True):
        return client.post("/accounts/find/", {"email": email})


def _invite_and_accept(tenant, email: str) -> User:
    from accounts.invitations import invitation_accept, invitation_create, invitation_token

    with schema_context(tenant.tenant.schema_name):
        invitation = invitation_create(
            actor=tenant.owner(), email=email, base_url="http://x", organisation=tenant.tenant.name
        )
        return invitation_accept(token=invitation_token(invitation), password=PASSWORD)


def test_the_mail_lists_exactly_the_organisations_of_that_address(
    acme, globex, mailbox, django_capture_on_commit_callbacks
):
    email = f"{unique('both')}@example.com"
    _invite_and_accept(acme, email)
    _invite_and_accept(globex, email)
    mailbox.clear()
    landing = HttpClient(HTTP_HOST="localhost").get("/").content.decode()
    assert 'href="/accounts/find/"' in landing  # "Sign in" on the landing page
    response = _find(email.upper(), django_capture_on_commit_callbacks)
    assert response.status_code == 200
    [mail] = mailbox.wait_for(email)
    assert mail.subject == "Your Taskhive organisations"
    login_links = sorted(link.split("?")[0] for link in mail.links)
    assert login_links == ["http://acme.localhost/accounts/login/", "http://globex.localhost/accounts/login/"]
    assert "Acme Corporation" in mail.body and "Globex Industries" in mail.body


def test_an_unknown_address_gets_the_same_page_and_no_mail(acme, mailbox, django_capture_on_commit_callbacks):
    known = f"{unique('known')}@example.com"
    _invite_and_accept(acme, known)
    mailbox.clear()
    unknown = f"{unique('unknown')}@example.com"
    page_known = _find(known, django_capture_on_commit_callbacks).content.decode().replace(known, "ADDRESS")
    page_unknown = (
        _find(unknown, django_capture_on_commit_callbacks).content.decode().replace(unknown, "ADDRESS")
    )
    strip = lambda html: "\n".join(line for line in html.splitlines() if "csrfmiddlewaretoken" not in line)  # noqa: E731
    assert strip(page_known) == strip(page_unknown)
    assert mailbox.mails(unknown) == [] and len(mailbox.mails(known)) == 1


def test_the_index_follows_people_and_stores_no_address(acme, tenants, db):
    email = f"{unique('idx')}@example.com"
    person = _invite_and_accept(acme, email)
    assert [hit.name for hit in account_index_organisations(email=email)] == ["Acme Corporation"]
    assert not AccountIndexEntry.objects.filter(email_digest__icontains="@").exists()
    assert AccountIndexEntry.objects.filter(email_digest=email_digest(email)).count() == 1
    with schema_context("acme"):
        user_deactivate(actor=acme.owner(), user=person)
    assert account_index_organisations(email=email) == []
    with schema_context("acme"):
        user_activate(actor=acme.owner(), user=person)
    assert len(account_index_organisations(email=email)) == 1
    assert account_index_rebuild() >= 3  # the two owners and this person at least
    assert len(account_index_organisations(email=email)) == 1


def test_a_new_tenants_owner_is_indexed_and_a_deleted_tenant_leaves_the_index(tenants, db):
    slug = unique("idx").replace("-", "")[:20]
    email = f"owner@{slug}.example"
    result = tenant_provision(slug=slug, name="Indexed", owner_email=email, owner_password=PASSWORD)
    assert [hit.host for hit in account_index_organisations(email=email)] == [f"{slug}.localhost"]
    assert AccountIndexEntry.objects.filter(tenant=result.tenant).count() == 1
    result.tenant.delete(force_drop=True)
    assert account_index_organisations(email=email) == []


def test_find_requests_are_throttled(settings, tenants, db, mailbox, django_capture_on_commit_callbacks):
    settings.ACCOUNT_MAIL_THROTTLE_PER_EMAIL = 1
    email = f"{unique('many')}@example.com"
    assert _find(email, django_capture_on_commit_callbacks).status_code == 200
    second = _find(email, django_capture_on_commit_callbacks)
    assert second.status_code == 429 and int(second["Retry-After"]) > 0


def test_sign_in_paths_on_the_base_domain_lead_to_it(tenants, db):
    client = HttpClient(HTTP_HOST="localhost")
    assert client.get("/login/")["Location"] == "/accounts/find/"
    assert client.get("/accounts/login/")["Location"] == "/accounts/find/"
    assert b"Email me my organisations" in client.get("/accounts/find/").content
