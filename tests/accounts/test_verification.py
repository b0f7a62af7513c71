"""Address verification over real SMTP: the banner goes after the link; a new address takes
effect only once verified; stale links are refused."""

from django_tenants.utils import schema_context

from accounts.models import User
from tests.support.factories import make_person, unique
from tests.support.tenants import PASSWORD

BANNER = "Please confirm your email address"


def _path(link: str) -> str:
    return link.split("acme.localhost", 1)[1]


def test_the_banner_goes_away_after_the_link_and_then_invites_work(
    acme, mailbox, django_capture_on_commit_callbacks
):
    owner = make_person(acme, role="owner")
    client = acme.login(owner.email)
    assert BANNER in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/verify-again/", {"next": "/"})
    [mail] = mailbox.wait_for(owner.email)
    [link] = [u for u in mail.links if "/accounts/verify/" in u]
    response = client.get(_path(link))
    assert response.status_code == 302
    assert BANNER not in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        invited = client.post(
            "/accounts/members/invite/", {"email": f"{unique('ok')}@acme.example", "role": "member"}
        )
    assert invited.status_code == 201


def test_a_changed_address_takes_effect_only_after_its_link(
    acme, mailbox, django_capture_on_commit_callbacks
):
    person = make_person(acme)
    new = f"{unique('new')}@acme.example"
    client = acme.login(person.email)
    wrong = client.post("/accounts/email/", {"email": new, "password": "not-it"}, follow=True)
    assert "That is not your current password." in [str(m) for m in wrong.context["messages"]]
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/email/", {"email": new, "password": PASSWORD})
    with schema_context("acme"):
        stored = User.objects.get(pk=person.pk)
    assert (stored.email, stored.pending_email) == (person.email, new)  # not yet
    assert mailbox.mails(person.email) == []
    [mail] = mailbox.wait_for(new)
    assert mail.subject == "Confirm your new email address for Taskhive"
    [link] = [u for u in mail.links if "/accounts/verify/" in u]
    assert acme.client().get(_path(link)).status_code == 302
    with schema_context("acme"):
        stored = User.objects.get(pk=person.pk)
    assert (stored.email, stored.pending_email) == (new, "") and stored.email_verified_at is not None
    assert acme.client().post("/accounts/login/", {"username": new, "password": PASSWORD}).status_code == 302


def test_a_link_for_an_address_no_longer_pending_is_refused(
    acme, mailbox, django_capture_on_commit_callbacks
):
    person = make_person(acme)
    first, second = f"{unique('first')}@acme.example", f"{unique('second')}@acme.example"
    client = acme.login(person.email)
    for address in (first, second):
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/accounts/email/", {"email": address, "password": PASSWORD})
    stale = next(u for u in mailbox.wait_for(first)[0].links if "/accounts/verify/" in u)
    fresh = next(u for u in mailbox.wait_for(second)[0].links if "/accounts/verify/" in u)
    assert acme.client().get(_path(stale)).status_code == 400
    assert acme.client().get(_path(fresh)).status_code == 302
    with schema_context("acme"):
        assert User.objects.get(pk=person.pk).email == second


def test_a_forged_verification_link_is_refused(acme):
    assert acme.client().get("/accounts/verify/not-a-token/").status_code == 400
