"""Attacks on tenant isolation, the ways real incidents happened. Each test fails if the
attack gets any data of another tenant.

Every test plants a secret task in each tenant and checks that a request aimed (by hook
or by crook) at one tenant never shows the other's.
"""

import datetime as dt
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Max
from django.template import engines
from django.test import Client as HttpClient
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.services import api_token_create
from tasks_app.models import Task
from tasks_app.services import task_create
from tests.support.database import in_fresh_thread

ACME_NAME = b"Acme Corporation"
GLOBEX_NAME = b"Globex Industries"


@pytest.fixture
def secrets(acme, globex) -> dict[str, Task]:
    """One secret task per tenant, with titles nobody else uses."""
    planted = {}
    for info in (acme, globex):
        with schema_context(info.tenant.schema_name):
            title = f"{info.slug}-secret-{uuid.uuid4().hex}"
            planted[info.slug] = task_create(actor=info.owner(), title=title)
    connection.set_schema_to_public()
    return planted


@pytest.fixture
def acme_only_task(acme, globex) -> Task:
    """An acme task whose id no globex task has (ids are per schema), so that on globex's
    host every route for it must be a 404."""
    with schema_context("globex"):
        globex_top = Task.objects.aggregate(top=Max("id"))["top"] or 0
    with schema_context("acme"):
        acme_top = Task.objects.aggregate(top=Max("id"))["top"] or 0
        task = Task.objects.create(
            id=max(acme_top, globex_top) + 10_000,
            title=f"acme-only-{uuid.uuid4().hex}",
            created_by=acme.owner(),
        )
    connection.set_schema_to_public()
    return task


def _shows(response, task: Task) -> bool:
    return task.title.encode() in response.content


def _acme_task_unchanged(task: Task) -> None:
    with schema_context("acme"):
        survivor = Task.objects.get(pk=task.pk)
    assert survivor.title == task.title
    assert survivor.status == Task.Status.OPEN


# --- Each tenant its own schema ---------------------------------------------------------


def test_each_tenant_sees_only_its_own_tasks(secrets, acme, globex):
    for own, other in (("acme", "globex"), ("globex", "acme")):
        with schema_context(own):
            titles = _titles()
        assert secrets[own].title in titles
        assert secrets[other].title not in titles
    for own, other in ((acme, globex), (globex, acme)):
        page = own.login().get("/")
        assert page.status_code == 200
        assert _shows(page, secrets[own.slug])
        assert not _shows(page, secrets[other.slug])


# --- Host header games ---------------------------------------------------------------
# (host, tenants the host may legitimately be served as). A host may be refused (4xx) or
# served as the tenant it names; it must never be served as anyone else.
HOST_GAMES = [
    ("ACME.localhost", {"acme"}),
    ("acme.localhost.", {"acme"}),
    ("acme.LOCALHOST.", {"acme"}),
    ("acme.localhost:8000@globex.localhost", set()),
    ("globex.localhost@acme.localhost", set()),
    ("acme.localhost:8000#@globex.localhost", set()),
    ("acme.localhost/globex.localhost", set()),
    ("acme.localhost\\globex.localhost", set()),
    ("acme.localhost%2eglobex.localhost", set()),
    ("acme.localhost..", set()),
    ("acme.localhost,globex.localhost", set()),
    ("acme.localhost globex.localhost", set()),
    ("www.acme.localhost", {"acme"}),
    ("www.globex.localhost", {"globex"}),
    ("www.localhost", set()),
    ("www.www.acme.localhost", set()),
    # IDN: "acme" with a Cyrillic a is another name, so is its punycode; fullwidth letters
    # fold to "acme" under NFKC, which must not happen silently.
    ("\u0430cme.localhost", set()),
    ("xn--cme-8cd.localhost", set()),
    ("\uff41\uff43\uff4d\uff45.localhost", set()),
    ("acme.localhost\u3002", set()),  # ideographic full stop
    ("a" * 240 + ".acme.localhost", set()),
    ("acme." + "x" * 250 + ".localhost", set()),
    ("", set()),
    (" ", set()),
    ("acme.localhost:", {"acme"}),
    ("acme.localhost:0", {"acme"}),
    ("[::1]", set()),
    ("127.0.0.1", set()),
]


@pytest.mark.parametrize(("host", "may_serve"), HOST_GAMES, ids=[repr(h)[:40] for h, _ in HOST_GAMES])
def test_host_header_games_never_reach_another_tenant(secrets, acme, globex, host, may_serve):
    # Anonymous: the sign-in page names the tenant it was served as.
    response = HttpClient(HTTP_HOST=host).get("/accounts/login/")
    assert response.status_code < 500
    names = {"acme": ACME_NAME, "globex": GLOBEX_NAME}
    served = {slug for slug, name in names.items() if name in response.content}
    assert served <= may_serve, f"{host!r} was served as {served}"

    # Signed in on one tenant, replaying the cookie with the odd host: never the other's data.
    for owner, other in ((acme, globex), (globex, acme)):
        client = owner.login()
        client.defaults["HTTP_HOST"] = host
        page = client.get("/")
        assert page.status_code < 500
        assert not _shows(page, secrets[other.slug]), f"{host!r}: {owner.slug}'s cookie saw {other.slug}"


def test_untrusted_x_forwarded_host_does_not_choose_the_tenant(secrets, acme, globex):
    client = globex.login()
    response = client.get("/", HTTP_X_FORWARDED_HOST=acme.host, HTTP_FORWARDED=f"host={acme.host}")
    assert response.status_code == 200
    assert _shows(response, secrets["globex"])
    assert not _shows(response, secrets["acme"])
    anonymous = globex.client().get("/accounts/login/", HTTP_X_FORWARDED_HOST=acme.host)
    assert GLOBEX_NAME in anonymous.content
    assert ACME_NAME not in anonymous.content


def test_x_forwarded_host_is_ignored_even_for_an_unknown_host(secrets, acme):
    client = HttpClient(HTTP_HOST="unknown.localhost", HTTP_X_FORWARDED_HOST=acme.host)
    response = client.get("/accounts/login/")
    assert response.status_code == 404
    assert ACME_NAME not in response.content


# --- Credentials replayed on another subdomain ---------------------------------------


def test_session_cookie_replayed_on_another_subdomain_is_anonymous(secrets, acme, globex):
    acme_client = acme.login()
    assert _shows(acme_client.get("/"), secrets["acme"])
    replay = globex.client()
    replay.cookies["sessionid"] = acme_client.cookies["sessionid"].value
    # The session is looked up in globex's schema, where it does not exist: anonymous.
    for path, status, sign_in in (
        ("/", 302, "/accounts/login/"),
        (f"/tasks/{secrets['globex'].pk}/", 302, "/accounts/login/"),
        ("/usage/", 302, "/accounts/login/"),
        ("/admin/", 302, "/admin/login/"),
        ("/admin/tasks_app/task/", 302, "/admin/login/"),
        ("/api/v1/tasks", 401, None),
    ):
        response = replay.get(path)
        assert response.status_code == status, path
        if sign_in:
            assert response["Location"].startswith(sign_in), path
        assert not _shows(response, secrets["globex"])
        assert not _shows(response, secrets["acme"])


def test_session_cookie_is_host_only(acme):
    response = acme.client().post(
        "/accounts/login/", {"username": acme.owner_email, "password": acme.password}
    )
    assert response.status_code == 302
    morsel = response.cookies["sessionid"]
    assert morsel["domain"] == "", "a Domain attribute would send the cookie to every tenant"
    assert morsel["httponly"]


def test_api_token_replayed_on_another_subdomain_is_refused(secrets, acme, globex):
    with schema_context("acme"):
        _, raw = api_token_create(user=acme.owner(), name="isolation test")
    connection.set_schema_to_public()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    own = acme.client().get("/api/v1/tasks", **auth)
    assert own.status_code == 200
    assert _shows(own, secrets["acme"])
    for path in ("/api/v1/tasks", *(f"/api/v1/tasks/{task.pk}" for task in secrets.values())):
        replay = globex.client().get(path, **auth)
        assert replay.status_code == 401, path
        assert not _shows(replay, secrets["globex"])
        assert not _shows(replay, secrets["acme"])
    write = globex.client().post(
        "/api/v1/tasks", {"title": "planted"}, content_type="application/json", **auth
    )
    assert write.status_code == 401


# --- Sequential IDs --------------------------------------------------------------------


def _ids_around(task: Task) -> list[int]:
    return [max(1, task.pk - 1), task.pk, task.pk + 1]


# Every task route of tasks_app/urls.py: the read-only page, the edit form, the actions.
UI_TASK_ROUTES = [
    ("get", "/tasks/{id}/"),
    ("get", "/tasks/{id}/edit/"),
    ("post", "/tasks/{id}/edit/"),
    ("post", "/tasks/{id}/complete/"),
    ("post", "/tasks/{id}/reopen/"),
    ("get", "/tasks/{id}/delete/"),
    ("post", "/tasks/{id}/delete/"),
]
EDIT = {"title": "hijacked", "status": "done"}


def test_another_tenants_task_id_is_404_on_every_ui_route(acme_only_task, globex):
    client = globex.login()
    for method, path in UI_TASK_ROUTES:
        response = getattr(client, method)(path.format(id=acme_only_task.pk), EDIT)
        assert response.status_code == 404, (method, path)
        assert not _shows(response, acme_only_task)
    _acme_task_unchanged(acme_only_task)
    assert not _shows(client.get("/", {"status": "all", "q": "acme-only"}), acme_only_task)


def test_another_tenants_task_ids_through_the_ui(secrets, globex):
    """Ids near acme's task may be globex's own tasks: those answer, with globex's data only."""
    target = secrets["acme"]
    client = globex.login()
    for task_id in _ids_around(target):
        for method, path in UI_TASK_ROUTES:
            response = getattr(client, method)(path.format(id=task_id), EDIT)
            assert response.status_code in (200, 302, 400, 404), (method, path)
            assert not _shows(response, target)
    _acme_task_unchanged(target)


def _globex_api_auth(globex) -> dict[str, str]:
    with schema_context("globex"):
        _, raw = api_token_create(user=globex.owner(), name="id walker")
    connection.set_schema_to_public()
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_another_tenants_task_id_is_404_through_the_api(acme_only_task, globex):
    client, auth = globex.client(), _globex_api_auth(globex)
    path = f"/api/v1/tasks/{acme_only_task.pk}"
    for response in (
        client.get(path, **auth),
        client.patch(path, {"title": "mine now"}, content_type="application/json", **auth),
        client.delete(path, **auth),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    _acme_task_unchanged(acme_only_task)


def test_another_tenants_task_ids_through_the_api(secrets, globex):
    target = secrets["acme"]
    client, auth = globex.client(), _globex_api_auth(globex)
    listing = client.get("/api/v1/tasks", {"per_page": 100}, **auth)
    assert listing.status_code == 200
    assert not _shows(listing, target)
    for task_id in _ids_around(target):
        got = client.get(f"/api/v1/tasks/{task_id}", **auth)
        assert got.status_code in (200, 404)
        assert not _shows(got, target)
        patched = client.patch(
            f"/api/v1/tasks/{task_id}", {"status": "done"}, content_type="application/json", **auth
        )
        assert patched.status_code in (200, 404)
        assert client.delete(f"/api/v1/tasks/{task_id}", **auth).status_code in (204, 404)
    _acme_task_unchanged(target)


def test_another_tenants_ids_are_404_in_the_tenant_admin(acme_only_task, acme, globex):
    with schema_context("acme"):
        person = get_user_model().objects.create_user(f"acme-only-{uuid.uuid4().hex[:8]}@acme.example")
    with schema_context("globex"):
        person_in_globex = get_user_model().objects.filter(pk=person.pk).exists()
    connection.set_schema_to_public()
    client = globex.login()
    paths = [f"/admin/tasks_app/task/{acme_only_task.pk}/{page}/" for page in ("change", "delete", "history")]
    if not person_in_globex:
        paths.append(f"/admin/accounts/user/{person.pk}/change/")
    for path in paths:
        response = client.get(path)
        assert response.status_code == 404, path
        assert not _shows(response, acme_only_task)
        assert person.email.encode() not in response.content


def test_another_tenants_task_ids_through_the_admin(secrets, globex):
    target = secrets["acme"]
    client = globex.login()
    changelist = client.get("/admin/tasks_app/task/")
    assert changelist.status_code in (200, 404)
    assert not _shows(changelist, target)
    for task_id in _ids_around(target):
        for path in (f"/admin/tasks_app/task/{task_id}/change/", f"/admin/tasks_app/task/{task_id}/delete/"):
            response = client.get(path, follow=True)
            assert response.status_code in (200, 404)
            assert not _shows(response, target)


def test_the_staff_admin_is_not_reachable_from_a_tenant_host(secrets, acme):
    """A tenant owner is is_staff in their schema: that must not open platform admin pages."""
    client = acme.login()
    for path in ("/admin/tenants/client/", "/admin/tenants/domain/", "/admin/usage/", "/metrics"):
        response = client.get(path)
        assert response.status_code in (302, 403, 404), path
        assert GLOBEX_NAME not in response.content


# --- Cache keys ---------------------------------------------------------------------------


def test_same_cache_key_on_two_tenants_is_two_entries(acme, globex):
    key = f"dashboard-summary-{uuid.uuid4().hex}"
    with schema_context("acme"):
        cache.set(key, "acme's numbers", 60)
    with schema_context("globex"):
        assert cache.get(key) is None
        cache.set(key, "globex's numbers", 60)
    with schema_context("acme"):
        assert cache.get(key) == "acme's numbers"


def test_template_fragment_cache_is_per_tenant(acme, globex):
    """`{% cache %}` keys are the fragment name and vary_on values only: no host, no tenant."""
    fragment = f"sidebar{uuid.uuid4().hex}"
    template = engines["django"].from_string(
        "{% load cache %}{% cache 60 " + fragment + " %}{{ name }}{% endcache %}"
    )
    with schema_context("acme"):
        assert template.render({"name": "Acme private"}) == "Acme private"
    with schema_context("globex"):
        assert template.render({"name": "Globex private"}) == "Globex private"


@override_settings(ROOT_URLCONF="tests.security.cache_urls")
def test_cache_page_on_the_same_url_for_two_tenants(acme, globex):
    path = f"/cached/{uuid.uuid4().hex}/"
    assert acme.client().get(path).content == b"acme"
    assert globex.client().get(path).content == b"globex"
    assert acme.client().get(path).content == b"acme"


# --- search_path inside one reused connection ----------------------------------------------


class Boom(Exception):
    pass


def _titles() -> set[str]:
    return set(Task.objects.values_list("title", flat=True))


def _current_schema() -> str:
    # A new cursor each time, as the ORM does: django-tenants sets the path when one is opened.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]


def test_savepoint_rollback_does_not_leave_the_previous_tenant(secrets, acme, globex):
    """The `db` fixture wraps the test in a transaction, so each atomic() is a savepoint."""
    connection.set_tenant(acme.tenant)
    assert secrets["acme"].title in _titles()
    with pytest.raises(Boom), transaction.atomic():  # SAVEPOINT, still on acme
        connection.set_tenant(globex.tenant)  # as schema_context() inside a transaction does
        assert _current_schema() == "globex"  # the SET search_path happens inside the savepoint
        raise Boom
    # ROLLBACK TO SAVEPOINT reverted that SET in PostgreSQL; the connection, still meant
    # for globex, must not silently fall back to acme.
    assert connection.schema_name == "globex"
    assert _current_schema() == "globex"
    titles = _titles()
    assert secrets["globex"].title in titles
    assert secrets["acme"].title not in titles
    # A savepoint with no SET inside (the path is cached) rolls back to globex too.
    with pytest.raises(Boom), transaction.atomic():
        assert _current_schema() == "globex"
        raise Boom
    assert _current_schema() == "globex"
    connection.set_tenant(acme.tenant)
    assert _current_schema() == "acme"
    # And the next request on this same connection, for another tenant, sees only its own.
    page = globex.login().get("/")
    assert not _shows(page, secrets["acme"])


@override_settings(ROOT_URLCONF="tests.security.cache_urls")
def test_request_that_fails_mid_query_does_not_leak_into_the_next_request(secrets, acme, globex):
    """Same thread, same connection: a request that errors inside a transaction, then
    requests for the other tenant."""
    client = HttpClient(HTTP_HOST=acme.host, raise_request_exception=False)
    assert client.get("/fail-in-transaction/").status_code == 500
    for _ in range(2):
        page = globex.login().get("/")
        assert page.status_code == 200
        assert _shows(page, secrets["globex"])
        assert not _shows(page, secrets["acme"])
        broken = HttpClient(HTTP_HOST=globex.host, raise_request_exception=False)
        assert broken.get("/fail-in-transaction/").status_code == 500
    # Within one request: a rolled-back block, then more queries in the same view.
    acme.client().get("/rollback-then-list/")
    listed = globex.client().get("/rollback-then-list/")
    assert _shows(listed, secrets["globex"])
    assert not _shows(listed, secrets["acme"])


def test_top_level_rollback_on_a_persistent_connection(acme, globex):
    """Outside the test transaction (committed data, a connection of its own): a real
    ROLLBACK after the SET, then queries in the same request and the next one."""

    def scenario() -> tuple[set[str], set[str], set[str]]:
        tag = uuid.uuid4().hex
        with schema_context("acme"):
            Task.objects.create(title=f"acme-committed-{tag}")
        with schema_context("globex"):
            Task.objects.create(title=f"globex-committed-{tag}")
        try:
            connection.set_tenant(acme.tenant)
            _titles()  # connection now has search_path = acme
            connection.set_tenant(globex.tenant)
            with pytest.raises(Boom), transaction.atomic():
                _titles()  # SET search_path = globex inside the transaction
                raise Boom  # ROLLBACK reverts it in PostgreSQL
            same_request = {t for t in _titles() if tag in t}
            with pytest.raises(Boom), transaction.atomic():
                Task.objects.create(title=f"globex-rolled-back-{tag}")
                raise Boom
            after_insert = {t for t in _titles() if tag in t}
            connection.set_tenant(acme.tenant)
            next_request = {t for t in _titles() if tag in t}
            return same_request, after_insert, next_request
        finally:
            for schema in ("acme", "globex"):
                with schema_context(schema):
                    Task.objects.filter(title__contains=tag).delete()

    same_request, after_insert, next_request = in_fresh_thread(scenario)
    assert [t.split("-")[0] for t in same_request] == ["globex"]
    assert [t.split("-")[0] for t in after_insert] == ["globex"]
    assert [t.split("-")[0] for t in next_request] == ["acme"]


# --- Threads -----------------------------------------------------------------------------


def test_a_new_thread_does_not_inherit_the_requests_tenant(secrets, acme):
    connection.set_tenant(acme.tenant)
    assert secrets["acme"].title in _titles()
    seen = {}

    def background():
        seen["schema"] = connection.schema_name
        try:
            seen["titles"] = _titles()
        except Exception as exc:  # no tenant tables in public: the query fails, nothing leaks
            seen["error"] = type(exc).__name__
        finally:
            connection.close()

    thread = threading.Thread(target=background)
    thread.start()
    thread.join(timeout=30)
    assert seen["schema"] == "public"
    assert secrets["acme"].title not in seen.get("titles", set())


def test_a_pooled_thread_does_not_carry_a_tenant_into_its_next_job(secrets, acme, globex):
    """Thread pools reuse threads, and a thread keeps its connection: a job must leave it
    as it found it (schema_context does), or the next job runs as the previous tenant."""

    def job(schema: str | None) -> tuple[str, set[str]]:
        if schema is None:
            return connection.schema_name, set()
        with schema_context(schema):
            return connection.schema_name, _titles()

    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            schema, titles = pool.submit(job, "acme").result(timeout=30)
            assert schema == "acme"
            assert secrets["acme"].title not in titles  # not committed: other connections cannot see it
            leftover, _ = pool.submit(job, None).result(timeout=30)
            assert leftover == "public"
        finally:
            pool.submit(lambda: connection.close()).result(timeout=30)


# --- Usage dashboards --------------------------------------------------------------------


@pytest.mark.django_db(databases=["default", "stats"])
def test_usage_dashboard_ignores_another_tenants_slug(secrets, acme, globex):
    from tests.usage_stats.dash_support import Ev, insert
    from usage_stats.rollups.rollup import rollup_run

    # A route name only globex has, and one only acme has, in the last hour.
    tag = uuid.uuid4().hex[:8]
    when = timezone.now() - dt.timedelta(minutes=30)
    insert([Ev(tenant="globex", occurred_at=when, route=f"globex-only-{tag}", tokens=987654)])
    insert([Ev(tenant="acme", occurred_at=when, route=f"acme-route-{tag}")])
    rollup_run(wait_s=5)
    client = acme.login()
    baseline = client.get("/usage/")
    assert baseline.status_code == 200
    assert f"acme-route-{tag}".encode() in baseline.content, "the page should show acme's own routes"
    assert f"globex-only-{tag}".encode() not in baseline.content
    for query in (
        {"tenant": "globex"},
        {"slug": "globex"},
        {"schema": "globex"},
        {"tenant": "globex", "export": "events"},
        {"tenant": "public"},
    ):
        response = client.get("/usage/", query)
        assert response.status_code in (200, 400, 404), query
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"globex" not in body.lower(), query
        assert b"987654" not in body and b"987,654" not in body, query
    assert b"globex" not in client.get("/usage/?tenant=globex&tenant=acme").content.lower()

    # The one page that names a tenant's usage in its path is the staff drill-down on the
    # base domain. There it shows globex's markers (so the probe below can see a leak)...
    staff = HttpClient(HTTP_HOST=settings.BASE_DOMAIN)
    with schema_context(settings.PUBLIC_SCHEMA_NAME):  # the user and the session live in public
        staff.force_login(
            get_user_model().objects.create_user(f"staff-{tag}@example.com", is_staff=True, is_superuser=True)
        )
    drill_down = f"/admin/usage/tenant/{globex.tenant.schema_name}/"
    shown = staff.get(drill_down)
    assert shown.status_code == 200
    assert f"globex-only-{tag}".encode() in shown.content
    # ...and an acme owner (is_staff in acme's schema) asking acme's host for it gets none of it.
    for path in (drill_down, "/admin/usage/"):
        response = client.get(path)
        assert response.status_code in (302, 403, 404), path
        assert f"globex-only-{tag}".encode() not in response.content, path
        assert b"987654" not in response.content and b"987,654" not in response.content, path
    # A globex owner's cookie on acme's host does not open acme's usage.
    replay = acme.client()
    replay.cookies["sessionid"] = globex.login().cookies["sessionid"].value
    assert replay.get("/usage/").status_code in (302, 403)
