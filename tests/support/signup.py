"""Signing up and signing in through real HTTP against tests.support.gunicorn servers."""

import re
from urllib.parse import urlsplit

import requests
from django.conf import settings

from tests.support.tenants import PASSWORD


def csrf_token(page: requests.Response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def local_url(server, url: str) -> tuple[str, dict[str, str]]:
    """A URL the server sent (http://<host>:<port>/path) as a loopback URL plus Host header."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return server.url(path), {"Host": parts.netloc}


def signup_and_follow(server, slug: str) -> list[tuple[str, int]]:
    """Sign up `slug`, then GET the redirect target and its stylesheet at once."""
    session = requests.Session()
    public = server.headers(settings.BASE_DOMAIN)
    form = session.get(server.url("/signup/"), headers=public, timeout=30)
    response = session.post(
        server.url("/signup/"),
        data={
            "csrfmiddlewaretoken": csrf_token(form),
            "name": f"Burst {slug}",
            "slug": slug,
            "owner_email": f"owner@{slug}.example",
            "owner_password": PASSWORD,
        },
        headers={**public, "Referer": server.url("/signup/")},
        allow_redirects=False,
        timeout=30,
    )
    seen = [("signup", response.status_code)]
    if response.status_code != 302:
        return seen
    url, headers = local_url(server, response.headers["Location"])
    page = requests.get(url, headers=headers, timeout=30)
    seen.append(("page", page.status_code))
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    if stylesheet is None:
        seen.append(("stylesheet", 0))  # no link: the page is not the sign-in page
    else:
        css = requests.get(server.url(stylesheet.group(1)), headers=headers, timeout=30)
        seen.append(("stylesheet", css.status_code))
    return seen


def owner_session(server, slug: str) -> requests.Session:
    """The owner of `slug` (signed up by signup_and_follow), signed in on its host."""
    session = requests.Session()
    headers = server.headers(f"{slug}.{settings.BASE_DOMAIN}")
    page = session.get(server.url("/accounts/login/"), headers=headers, timeout=30)
    response = session.post(
        server.url("/accounts/login/"),
        data={
            "csrfmiddlewaretoken": csrf_token(page),
            "username": f"owner@{slug}.example",
            "password": PASSWORD,
        },
        headers={**headers, "Referer": server.url("/accounts/login/")},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:500]
    return session
