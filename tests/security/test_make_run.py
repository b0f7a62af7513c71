"""`make run` as a new user meets it: real gunicorn with saas.settings.local (DEBUG off, a
generated secret, whitenoise). Whatever path, method, Host or body arrives, no answer is
ever one of Django's technical pages, a traceback or a 5xx; errors are the app's own
pages (JSON under /api/)."""

import os
import stat
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saas.settings.environment import LOCAL_SECRET_KEY_FILE
from tests.support.gunicorn import make_run_gunicorn

pytestmark = [pytest.mark.live, pytest.mark.timeout(300)]

# What Django's debug pages and tracebacks contain; none may ever reach a person.
TECHNICAL = (
    b"Traceback",
    b"DEBUG = True",
    b"Django tried these URL patterns",
    b"technical_500",
    b"Exception Value",
    b"Request Method:",
    b"Using the URLconf",
    b"settings.py",
    b"django.core",
    b"Page not found (404)",
)
HOSTS = [
    "acme.localhost",
    "localhost",
    "api.localhost",
    "nobody.localhost",
    "ACME.localhost.",
    "[::1]",
    "a" * 70,
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "FOO"]
PATHS = [
    "/",
    "/tasks/1/",
    "/tasks/1/edit/",
    "/tasks/999999999999999999999/",
    "/tasks/1.0/",
    "/tasks/new/",
    "/accounts/login/",
    "/signup/",
    "/admin/",
    "/admin/tenants/client/1/change/",
    "/api/v1/tasks",
    "/api/v1/tasks/1",
    "/api/v1/tasks/1.0",
    "/api/v1/people",
    "/api/v1/nope",
    "/api/",
    "/static/css/app.css",
    "/static/../settings.py",
    "/usage/",
    "/export/",
    "/metrics",
    "/favicon.ico",
    "/%00",
    "/%ff%fe",
    "/..%2f..%2fetc/passwd",
]
FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def server(tenants, django_db_blocker, tmp_path_factory):
    with (
        django_db_blocker.unblock(),
        make_run_gunicorn(log_dir=tmp_path_factory.mktemp("make-run")) as running,
    ):
        yield running


def _assert_clean(response: requests.Response, path: str) -> None:
    assert response.status_code < 500, (response.status_code, path, response.content[:300])
    for marker in TECHNICAL:
        assert marker not in response.content, (marker, path, response.content[:300])
    if response.status_code < 400 or not response.content:
        return
    is_json = response.headers["Content-Type"].startswith("application/json")
    if path.startswith("/api/"):
        assert is_json, path
    elif not is_json:  # JSON elsewhere only from the shared API host
        assert b'class="topbar"' in response.content, (path, response.content[:300])


def test_make_run_is_production_like(server, db):
    assert server.env["DJANGO_SETTINGS_MODULE"] == "saas.settings.local"
    page = requests.get(server.url("/no-such-page/"), headers=server.headers("acme.localhost"), timeout=10)
    assert page.status_code == 404 and b"Not found" in page.content
    _assert_clean(page, "/no-such-page/")
    # whitenoise serves static files with DEBUG off (no runserver, no web server in front).
    css = requests.get(
        server.url("/static/css/app.css"),
        headers={**server.headers("localhost"), "Accept-Encoding": "gzip"},
        timeout=10,
    )
    assert css.status_code == 200 and "prefers-color-scheme" in css.text
    assert "max-age" in css.headers.get("Cache-Control", "")
    # The secret was generated once, privately.
    mode = stat.S_IMODE(os.stat(LOCAL_SECRET_KEY_FILE).st_mode)
    assert mode == 0o600 and len(Path(LOCAL_SECRET_KEY_FILE).read_text().strip()) >= 50


@FUZZ
@given(
    method=st.sampled_from(METHODS),
    path=st.sampled_from(PATHS)
    | st.text(alphabet=st.characters(codec="ascii", exclude_characters="#?\r\n "), max_size=60).map(
        lambda p: "/" + p
    ),
    host=st.sampled_from(HOSTS),
    body=st.sampled_from(
        [b"", b"{not json", b'{"title": "\\u202e"}', b"\x00\xff", b"a=1&b=2", b'{"assignee_id": true}']
    ),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data; boundary=x",
        ]
    ),
    tenant_id=st.sampled_from([None, "", "acme", "nobody", "\u00e9"]),
)
def test_no_request_ever_gets_a_technical_page(server, db, method, path, host, body, content_type, tenant_id):
    headers = {"Host": f"{host}:{server.port}", "Content-Type": content_type}
    if tenant_id is not None:
        headers["X-Tenant-ID"] = tenant_id.encode("utf-8").decode("latin-1")
    response = requests.request(
        method, server.url(path), headers=headers, data=body, timeout=10, allow_redirects=False
    )
    _assert_clean(response, path)
