"""Sign-up on the base domain: throttled per IP and per email; the owner arrives signed in
on their subdomain through a one-time hand-off that is refused when replayed, used on
another host, or late; the verification mail goes out; reserved names."""

import re
import time
from pathlib import Path

import pytest
from django.core import signing
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from accounts import signup as signup_module
from accounts.models import User
from saas.settings import mail as mail_settings
from tests.support.factories import unique
from tests.support.tenants import PASSWORD


def _signup(slug: str, email: str | None = None, *, ip: str = "127.0.0.1", capture=None):
    data = {
        "name": f"Org {slug}",
        "slug": slug,
        "owner_email": email or f"o@{slug}.example",
        "owner_password": PASSWORD,
    }
    client = HttpClient(HTTP_HOST="localhost", REMOTE_ADDR=ip)
    if capture is None:
        return client.post("/signup/", data)
    with capture(execute=True):
        return client.post("/signup/", data)


def _slug() -> str:
    return unique("org").replace("-", "")[:20]


def _welcome(response) -> tuple[str, str]:
    location = response["Location"]
    host = location.split("://", 1)[1].split("/", 1)[0]
    return host, location.split(host, 1)[1]


def test_the_new_owner_lands_signed_in_and_gets_a_verification_mail(
    tenants, db, mailbox, django_capture_on_commit_callbacks
):
    slug = _slug()
    response = _signup(slug, capture=django_capture_on_commit_callbacks)
    host, path = _welcome(response)
    assert host == f"{slug}.localhost"
    owner = HttpClient(HTTP_HOST=host)
    landed = owner.get(path, follow=True)
    assert landed.redirect_chain[-1][0] == "/" and landed.status_code == 200
    html = landed.content.decode()
    assert f"o@{slug}.example" in html and "Please confirm your email address" in html
    assert owner.get("/accounts/settings/").status_code == 200
    # The base domain's client holds no session for the new host: nothing crossed hosts.
    assert "sessionid" not in response.cookies
    [mail] = mailbox.wait_for(f"o@{slug}.example")
    [link] = [u for u in mail.links if "/accounts/verify/" in u]
    assert owner.get(link.split(host, 1)[1]).status_code == 302
    assert "Please confirm your email address" not in owner.get("/").content.decode()


def test_a_replayed_hand_off_is_refused(tenants, db):
    slug = _slug()
    host, path = _welcome(_signup(slug))
    assert HttpClient(HTTP_HOST=host).get(path).status_code == 302
    replay = HttpClient(HTTP_HOST=host).get(path)
    assert replay.status_code == 400 and b"already used" in replay.content
    assert "_auth_user_id" not in replay.client.session


def test_a_hand_off_on_another_host_is_refused(tenants, db, acme):
    slug = _slug()
    _host, path = _welcome(_signup(slug))
    response = acme.client().get(path)
    assert response.status_code == 400
    # ...and was not spent by that attempt? It was refused before use: the owner still gets in.
    assert HttpClient(HTTP_HOST=f"{slug}.localhost").get(path).status_code == 302


def test_a_late_or_forged_hand_off_is_refused(tenants, db, settings):
    slug = _slug()
    host, path = _welcome(_signup(slug))
    settings.SIGNUP_HANDOFF_MAX_AGE_S = 1
    time.sleep(2.1)
    assert HttpClient(HTTP_HOST=host).get(path).status_code == 400
    with schema_context(slug):
        owner = User.objects.get()
    forged = signing.dumps({"h": host, "s": slug, "u": owner.pk, "n": "x"}, salt="another-salt")
    assert HttpClient(HTTP_HOST=host).get(f"/accounts/welcome/?t={forged}").status_code == 400
    assert HttpClient(HTTP_HOST=host).get("/accounts/welcome/").status_code == 400
    assert signup_module.HANDOFF_PATH in path


def _documented_default(name: str) -> int:
    """The default docs/accounts.md states for `name` (and saas/settings/mail.py uses)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "accounts.md").read_text()
    return int(re.search(rf"`{name}` = (\d+)", text).group(1))


def test_sign_ups_are_throttled_per_ip_after_the_limit_and_other_ips_go_through(tenants, db, settings):
    limit = _documented_default("SIGNUP_THROTTLE_PER_IP")
    assert limit == mail_settings.SIGNUP_THROTTLE_PER_IP  # the settings' default is the documented one
    settings.SIGNUP_THROTTLE_PER_IP = limit  # the test settings lift it for every other test
    statuses = [_signup(_slug(), ip="192.0.2.10").status_code for _ in range(30)]
    assert statuses[:limit] == [302] * limit and set(statuses[limit:]) == {429}
    refused = _signup(_slug(), ip="192.0.2.10")
    assert int(refused["Retry-After"]) > 0 and b"Too many sign-ups" in refused.content
    assert _signup(_slug(), ip="192.0.2.11").status_code == 302


def test_the_client_ip_behind_trusted_proxies_is_the_one_throttled(tenants, db, settings):
    settings.SIGNUP_THROTTLE_PER_IP = 1
    settings.TRUSTED_PROXY_COUNT = 1
    client = HttpClient(HTTP_HOST="localhost")

    def post(forwarded_for: str) -> int:
        slug = _slug()
        data = {"name": "X", "slug": slug, "owner_email": f"o@{slug}.example", "owner_password": PASSWORD}
        return client.post("/signup/", data, HTTP_X_FORWARDED_FOR=forwarded_for).status_code

    assert post("198.51.100.1") == 302
    assert post("198.51.100.1") == 429
    assert post("198.51.100.2") == 302  # another client behind the same proxy


def test_sign_ups_are_throttled_per_email(tenants, db, settings):
    settings.SIGNUP_THROTTLE_PER_EMAIL = 2
    email = f"{unique('squatter')}@example.com"
    statuses = [_signup(_slug(), email, ip=f"203.0.113.{i}").status_code for i in range(4)]
    assert statuses == [302, 302, 429, 429]


@pytest.mark.parametrize(
    "slug",
    [
        "autodiscover",
        "autoconfig",
        "mail",
        "webmail",
        "smtp",
        "imap",
        "cdn",
        "sso",
        "auth",
        "status",
        "help",
        "docs",
        "billing",
        "support",
        "dashboard",
    ],
)
def test_infrastructure_names_are_reserved(tenants, db, slug):
    response = _signup(slug)
    assert response.status_code == 400 and b"This subdomain is reserved." in response.content
