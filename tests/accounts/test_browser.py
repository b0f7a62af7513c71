"""Debian's Chromium (Playwright) through the password-reset and invitation flows, reading
the links from the mails a real SMTP server received. Screenshots: tests/artifacts/accounts/."""

import os
import uuid
from pathlib import Path

import pytest

from tests.support.chromium import CHROMIUM, chromium
from tests.support.factories import make_person
from tests.support.live_server import committed
from tests.support.tenants import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "accounts"
NEW_PASSWORD = "browser-chosen-passphrase-5"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="`make test` installs chromium with apt"),
]


@pytest.fixture
def browser(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        yield browser


def _page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _flash(page) -> str:
    return page.locator(".messages").inner_text()


def test_password_reset_in_chromium(live, browser, acme, mailbox):
    person = committed(make_person, acme)
    page = _page(browser)
    page.goto(live.url(acme.host, "/accounts/login/"))
    page.click("text=Forgot your password?")
    page.fill("#id_email", person.email)
    _shot(page, "reset-01-request")
    page.click("button[type=submit]")
    page.wait_for_url(live.url(acme.host, "/accounts/password/reset/sent/"))
    assert "Check your mail" in page.content()
    _shot(page, "reset-02-sent")

    [mail] = mailbox.wait_for(person.email)
    link = next(u for u in mail.links if "/accounts/password/reset/" in u)
    page.goto(link)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    _shot(page, "reset-03-choose")
    page.click("button[type=submit]")
    page.wait_for_url(live.url(acme.host, "/"))
    assert "Your password has been changed and you are signed in." in _flash(page)
    assert person.email in page.locator(".who").inner_text()
    _shot(page, "reset-04-signed-in")

    again = _page(browser)
    again.goto(link)
    assert "This link does not work any more" in again.content()
    _shot(again, "reset-05-link-used")


def test_invitation_in_chromium(live, browser, acme, mailbox):
    email = f"browser-{uuid.uuid4().hex[:8]}@acme.example"
    owner = _page(browser)
    owner.goto(live.url(acme.host, "/accounts/login/"))
    owner.fill("#id_username", acme.owner_email)
    owner.fill("#id_password", PASSWORD)
    owner.click("button[type=submit]")
    owner.wait_for_url(live.url(acme.host, "/"))
    owner.click("nav >> text=People")
    owner.click("text=Invite a person")
    owner.fill("#id_email", email)
    owner.fill("#id_full_name", "Browser Invitee")
    owner.select_option("#id_role", "owner")
    _shot(owner, "invite-01-form")
    owner.click("button:has-text('Send invitation')")
    assert f"Invitation sent to {email}" in owner.content()
    _shot(owner, "invite-02-sent")

    [mail] = mailbox.wait_for(email)
    link = next(u for u in mail.links if "/accounts/invitation/" in u)
    invitee = _page(browser)
    invitee.goto(link)
    assert email in invitee.content()
    invitee.fill("#id_password1", NEW_PASSWORD)
    invitee.fill("#id_password2", NEW_PASSWORD)
    _shot(invitee, "invite-03-choose-password")
    invitee.click("button[type=submit]")
    invitee.wait_for_url(live.url(acme.host, "/"))
    assert f"You are signed in as {email}" in _flash(invitee)
    assert invitee.locator("nav >> text=People").count() == 1  # invited as owner
    _shot(invitee, "invite-04-signed-in")

    # A revoked invitation's link is refused.
    revoked = f"revoked-{uuid.uuid4().hex[:8]}@acme.example"
    owner.goto(live.url(acme.host, "/accounts/members/invite/"))
    owner.fill("#id_email", revoked)
    owner.click("button:has-text('Send invitation')")
    revoked_link = next(u for u in mailbox.wait_for(revoked)[0].links if "/accounts/invitation/" in u)
    owner.goto(live.url(acme.host, "/accounts/members/"))
    owner.locator("tr.invitation-row", has_text=revoked).locator("button:has-text('Revoke')").click()
    assert f"Revoked the invitation of {revoked}" in _flash(owner)
    _shot(owner, "invite-05-revoked")
    stranger = _page(browser)
    stranger.goto(revoked_link)
    assert "This invitation is not valid any more" in stranger.content()
    _shot(stranger, "invite-06-revoked-link")
