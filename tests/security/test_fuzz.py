"""Bad input never gets a 500: forms, query strings, paths, Host headers and CLI arguments.

Hypothesis generates the input; every example must get a 4xx (or a normal page), or a
CommandError with a message for the CLI.
"""

from django.core.management import CommandError, call_command
from django.test import Client as HttpClient
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

# Anything a client can put in a form field or a query string, NUL and surrogates included.
any_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=300) | st.sampled_from(
    ["", " ", "\x00", "a\x00b", "' OR 1=1 --", "%00", "<script>", "../../etc/passwd", "9" * 40, "-1", "1e309"]
)
form_data = st.dictionaries(st.sampled_from(["a", "b"]), any_text, max_size=2)


def _assert_no_server_error(response, *, allowed_leaks: tuple[bytes, ...] = ()):
    assert response.status_code < 500, response.content[:500]
    assert b"Traceback" not in response.content


@FUZZ
@given(host=st.text(max_size=300) | st.sampled_from(["", ":", "[::1]", "acme.localhost:99999", "a" * 300]))
def test_any_host_header_gets_a_clean_answer(tenants, db, host):
    response = HttpClient(HTTP_HOST=host).get("/")
    _assert_no_server_error(response)
    if host.lower().split(":")[0].rstrip(".") not in ("acme.localhost", "www.acme.localhost"):
        assert b"Acme Corporation" not in response.content


@FUZZ
@given(path=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="?#"), max_size=200))
def test_any_path_gets_a_clean_answer(acme, path):
    response = acme.client().get("/" + path)
    _assert_no_server_error(response)


@FUZZ
@given(params=st.dictionaries(any_text, any_text, max_size=5))
def test_any_query_string_on_tenant_pages(acme, params):
    client = acme.login()
    for url in ("/", "/accounts/login/", "/accounts/members/", "/tasks/new/"):
        _assert_no_server_error(client.get(url, params))
    _assert_no_server_error(HttpClient(HTTP_HOST="localhost").get("/", params))


@FUZZ
@given(name=any_text, slug=any_text, owner_email=any_text, owner_password=any_text, extra=form_data)
def test_signup_form_rejects_bad_input_cleanly(tenants, db, name, slug, owner_email, owner_password, extra):
    data = {"name": name, "slug": slug, "owner_email": owner_email, "owner_password": owner_password, **extra}
    response = HttpClient(HTTP_HOST="localhost").post("/signup/", data)
    _assert_no_server_error(response)
    assert response.status_code in (200, 302, 400, 429)  # 429: the same address tried too often


@FUZZ
@given(username=any_text, password=any_text, extra=form_data)
def test_login_form_rejects_bad_input_cleanly(acme, username, password, extra):
    response = acme.client().post("/accounts/login/", {"username": username, "password": password, **extra})
    _assert_no_server_error(response)
    assert response.status_code in (200, 302, 400, 429)


def _task_form_url() -> str:
    return reverse("task_create", urlconf="saas.urls_tenants")


@FUZZ
@given(
    title=any_text,
    description=any_text,
    due_date=any_text | st.dates().map(str),
    status=any_text,
    assignee=any_text | st.integers().map(str),
)
def test_task_form_rejects_bad_input_cleanly(acme, title, description, due_date, status, assignee):
    url = _task_form_url()
    data = {"title": title, "description": description, "due_date": due_date, "status": status}
    data["assignee"] = assignee
    response = acme.login().post(url, data)
    _assert_no_server_error(response)
    assert response.status_code in (200, 302, 400)


@FUZZ
@given(
    slug=any_text | st.from_regex(r"\A[a-z][a-z0-9-]{1,20}[a-z0-9]\Z"),
    name=any_text,
    email=any_text | st.emails(),
    password=any_text,
)
def test_provision_tenant_cli_fails_with_a_message(tenants, db, slug, name, email, password):
    argv = [slug, "--name", name, "--owner-email", email, "--owner-password", password]
    try:
        call_command("provision_tenant", *argv, stdout=_Sink(), stderr=_Sink())
    except CommandError as exc:
        assert str(exc).strip()
        assert "Traceback" not in str(exc)


class _Sink:
    def write(self, *_args, **_kwargs) -> None:
        pass

    def flush(self) -> None:
        pass
