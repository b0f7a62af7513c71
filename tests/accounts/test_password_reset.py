"""Password reset over real SMTP: request, mail, link, new password, signed in; the link
works once and expires; the same answer for unknown addresses; throttled."""

import random
import time

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.passwords import SchemaPasswordResetTokenGenerator
from tests.support.factories import make_person, unique

NEW_PASSWORD = "a-brand-new-passphrase-77"


def _request_reset(client, email, capture) -> object:
    with capture(execute=True):
        return client.post("/accounts/password/reset/", {"email": email})


def _path(link: str, host: str) -> str:
    return link.split(host, 1)[1]


def test_reset_by_mail_signs_in_and_the_link_works_once(acme, mailbox, django_capture_on_commit_callbacks):
    person = make_person(acme)
    client = acme.client()
    login_page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password/reset/"' in login_page

    response = _request_reset(client, person.email.upper(), django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    [mail] = mailbox.wait_for(person.email)
    assert mail.subject == "Reset your Taskhive password"
    [link] = [url for url in mail.links if "/accounts/password/reset/" in url]
    assert link.startswith("http://acme.localhost/accounts/password/reset/")

    form_page = client.get(_path(link, acme.host), follow=True)
    assert form_page.status_code == 200 and b"Choose a new password" in form_page.content
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.get("/").status_code == 200  # signed in
    with schema_context("acme"):
        stored = User.objects.get(pk=person.pk)
    assert check_password(NEW_PASSWORD, stored.password) and stored.email_verified_at is not None

    again = acme.client().get(_path(link, acme.host), follow=True)
    assert again.status_code == 400 and b"already used, has expired" in again.content


def test_an_expired_reset_link_is_refused(acme, settings):
    person = make_person(acme)
    settings.PASSWORD_RESET_TIMEOUT = 60

    class TwoMinutesAgo(SchemaPasswordResetTokenGenerator):
        def _now(self):
            return super()._now().fromtimestamp(time.time() - 120)

    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    with schema_context("acme"):
        token = TwoMinutesAgo().make_token(person)
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    response = acme.client().get(f"/accounts/password/reset/{uid}/{token}/", follow=True)
    assert response.status_code == 400 and b"already used, has expired" in response.content


def test_a_link_for_one_tenant_means_nothing_on_another(
    acme, globex, mailbox, django_capture_on_commit_callbacks
):
    person = make_person(acme)
    _request_reset(acme.client(), person.email, django_capture_on_commit_callbacks)
    [mail] = mailbox.wait_for(person.email)
    path = _path(mail.links[0], acme.host)
    response = globex.client().get(path, follow=True)
    assert response.status_code == 400


def test_unknown_and_known_addresses_get_the_same_answer(acme, mailbox, django_capture_on_commit_callbacks):
    person = make_person(acme)
    known = _request_reset(acme.client(), person.email, django_capture_on_commit_callbacks)
    unknown = _request_reset(
        acme.client(), f"{unique('nobody')}@acme.example", django_capture_on_commit_callbacks
    )
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    page_known = acme.client().get(known["Location"]).content
    assert page_known == acme.client().get(unknown["Location"]).content
    assert len(mailbox.mails()) == 1


def test_reset_requests_are_throttled_per_address_and_per_ip(
    acme, settings, mailbox, django_capture_on_commit_callbacks
):
    settings.ACCOUNT_MAIL_THROTTLE_PER_EMAIL = 2
    settings.ACCOUNT_MAIL_THROTTLE_PER_IP = 4
    person = make_person(acme)
    # An address of its own: live tests commit requests from 127.0.0.1 that count per IP.
    ip = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    client = HttpClient(HTTP_HOST=acme.host, REMOTE_ADDR=ip)
    statuses = [
        _request_reset(client, person.email, django_capture_on_commit_callbacks).status_code for _ in range(3)
    ]
    assert statuses == [302, 302, 429]
    assert len(mailbox.mails(person.email)) == 2
    # Other addresses from the same IP: the per-IP limit (4) counts the 2 above.
    others = [
        _request_reset(client, f"{unique('x')}@acme.example", django_capture_on_commit_callbacks).status_code
        for _ in range(3)
    ]
    assert others == [302, 302, 429]
    throttled = client.post("/accounts/password/reset/", {"email": "y@acme.example"})
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert b"Too many password-reset requests" in throttled.content
    # Another client IP is not affected.
    other_ip = acme.client().post(
        "/accounts/password/reset/", {"email": "z@acme.example"}, REMOTE_ADDR="192.0.2.99"
    )
    assert other_ip.status_code == 302


def test_staff_reset_their_password_on_the_base_domain(
    mailbox, django_capture_on_commit_callbacks, tenants, db
):
    from django.test import Client

    email = f"{unique('staff')}@example.com"
    User.objects.create_user(email, "old-staff-passphrase-1", is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    admin_login = client.get("/admin/login/").content.decode()
    assert "/admin/password_reset/" in admin_login  # Django's "Forgotten your password?" link
    assert client.get("/admin/password_reset/").status_code == 302
    response = _request_reset(client, email, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    [mail] = mailbox.wait_for(email)
    page = client.get(_path(mail.links[0], "localhost"), follow=True)
    done = client.post(
        page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_throttled_sign_in_page_links_to_the_reset(acme, settings):
    settings.LOGIN_THROTTLE_FAILURES = 1
    client = acme.client()
    email = f"{unique('locked')}@acme.example"
    client.post("/accounts/login/", {"username": email, "password": "wrong"})
    response = client.post("/accounts/login/", {"username": email, "password": "wrong"})
    assert response.status_code == 429
    assert b'href="/accounts/password/reset/"' in response.content


@pytest.mark.parametrize("host", ["acme.localhost", "localhost"])
def test_the_reset_page_renders_on_every_host(host, tenants, db):
    from django.test import Client

    response = Client(HTTP_HOST=host).get("/accounts/password/reset/")
    assert response.status_code == 200 and b"Forgot your password?" in response.content
