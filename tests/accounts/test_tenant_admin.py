from django_tenants.utils import schema_context

from accounts.models import Invitation, User
from tasks_app.models import Task
from tests.support.factories import make_person, make_task, unique
from tests.support.tenants import PASSWORD


def test_owner_gets_admin_for_their_people_and_tasks(acme):
    task = make_task(acme, title=unique("admin-visible"))
    client = acme.login()
    index = client.get("/admin/")
    assert index.status_code == 200
    html = index.content.decode()
    assert "Acme Corporation admin" in html
    assert "/admin/accounts/user/" in html and "/admin/tasks_app/task/" in html
    # Staff-only models of the base domain are not here.
    assert "/admin/tenants/" not in html
    tasks = client.get("/admin/tasks_app/task/")
    assert tasks.status_code == 200 and task.title in tasks.content.decode()
    people = client.get("/admin/accounts/user/")
    assert people.status_code == 200 and acme.owner_email in people.content.decode()
    assert client.get("/admin/tenants/client/").status_code == 404


def test_owner_marks_task_done_in_admin_and_completed_at_follows(acme):
    task = make_task(acme, title=unique("admin-edit"))
    client = acme.login()
    response = client.post(
        f"/admin/tasks_app/task/{task.pk}/change/",
        {"title": task.title, "description": "", "status": "done", "due_date": "", "assignee": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context("acme"):
        task.refresh_from_db()
    assert task.status == "done" and task.completed_at is not None


def test_owner_invites_in_admin_and_sets_no_password(acme):
    client = acme.login()
    # People join by invitation: the admin offers no form that sets someone's password.
    assert client.get("/admin/accounts/user/add/").status_code == 403
    email = f"{unique('admin-invited')}@acme.example"
    response = client.post(
        "/admin/accounts/invitation/add/", {"email": email.upper(), "full_name": "Added", "role": "member"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context("acme"):
        invitation = Invitation.objects.get(email=email)
        assert not User.objects.filter(email=email).exists()
    assert invitation.role == "member" and invitation.is_open
    assert client.get("/admin/login/").status_code in (200, 302)


def test_owners_cannot_set_a_members_password_in_admin(acme, acme_member):
    client = acme.login()
    url = f"/admin/accounts/user/{acme_member.pk}/password/"
    assert client.get(url).status_code == 403
    assert (
        client.post(url, {"password1": "owner-chosen-pass-1", "password2": "owner-chosen-pass-1"}).status_code
        == 403
    )


def test_the_admin_sign_in_links_to_the_password_reset(acme):
    page = acme.client().get("/admin/login/").content.decode()
    assert 'href="/admin/password_reset/"' in page
    assert acme.client().get("/admin/password_reset/")["Location"] == "/accounts/password/reset/"


def test_owner_cannot_demote_or_delete_themselves_in_admin(acme):
    owner = acme.owner()
    client = acme.login()
    client.post(
        f"/admin/accounts/user/{owner.pk}/change/",
        {"email": owner.email, "full_name": "", "role": "member", "is_active": ""},
    )
    with schema_context("acme"):
        owner.refresh_from_db()
    assert owner.role == "owner" and owner.is_active
    assert client.post(f"/admin/accounts/user/{owner.pk}/delete/", {"post": "yes"}).status_code == 403


def test_member_gets_403_from_admin(acme, acme_member):
    task = make_task(acme, title=unique("member-hidden"))
    client = acme.login(acme_member.email)
    for url in [
        "/admin/",
        "/admin/login/",
        "/admin/tasks_app/task/",
        f"/admin/tasks_app/task/{task.pk}/change/",
        f"/admin/accounts/user/{acme_member.pk}/change/",
    ]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert task.title.encode() not in response.content
        assert acme_member.email.encode() not in response.content


def test_member_cannot_sign_in_to_admin(acme, acme_member):
    client = acme.client()
    response = client.post("/admin/login/", {"username": acme_member.email, "password": PASSWORD})
    assert response.status_code == 200
    assert b"Only owners of this organisation can use the admin." in response.content
    assert client.get("/admin/").status_code == 302


def test_anonymous_admin_goes_to_admin_login(acme):
    response = acme.client().get("/admin/tasks_app/task/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    login = acme.client().post(
        "/admin/login/?next=/admin/", {"username": acme.owner_email, "password": PASSWORD}
    )
    assert login.status_code == 302 and login["Location"] == "/admin/"


def test_admin_delete_task(acme):
    task = make_task(acme)
    client = acme.login()
    confirm = client.get(f"/admin/tasks_app/task/{task.pk}/delete/")
    assert confirm.status_code == 200
    assert client.post(f"/admin/tasks_app/task/{task.pk}/delete/", {"post": "yes"}).status_code == 302
    with schema_context("acme"):
        assert not Task.objects.filter(pk=task.pk).exists()


def test_people_page_unavailable_for_deactivated_owner_session(acme):
    second_owner = make_person(acme, role="owner")
    client = acme.login(second_owner.email)
    assert client.get("/admin/").status_code == 200
    with schema_context("acme"):
        User.objects.filter(pk=second_owner.pk).update(is_active=False)
    assert client.get("/admin/").status_code == 302
