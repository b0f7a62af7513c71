"""Tenant export as a job: the owner asks, the real worker writes the file, the page
shows progress and then a download link that works for that owner only."""

import json
from pathlib import Path

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context

from accounts.models import User
from core.models import JobProgress
from tests.support.live_server import committed

from .support import wait_for

pytestmark = [pytest.mark.redis, pytest.mark.django_db, pytest.mark.timeout(120)]


def _signed_in(info, email=None):
    client = info.client()
    with schema_context(info.tenant.schema_name):
        client.force_login(User.objects.get(email=email or info.owner_email))
    return client


def test_owner_requests_an_export_sees_progress_then_downloads_it(jobs_worker, redis_clean, tenants):
    acme, globex = tenants["acme"], tenants["globex"]

    def request_export():
        client = _signed_in(acme)
        assert client.post("/export/").status_code == 302
        page = client.get("/export/")
        return client, page.status_code, page.content.decode()

    client, status, page = committed(request_export)
    assert status == 200
    # Unfinished, the page reloads itself (unless the worker was already done).
    assert 'http-equiv="refresh"' in page or "Ready" in page
    schema = acme.tenant.schema_name
    progress = committed(lambda: JobProgress.objects.filter(target_schema=schema).latest("id"))
    assert progress.state in ("queued", "running", "done")

    def finished():
        row = JobProgress.objects.get(pk=progress.pk)
        return row if row.is_finished else None

    done = wait_for(lambda: committed(finished), timeout_s=60, message=jobs_worker.log())
    assert done.state == "done", done.error
    try:
        page = committed(lambda: client.get("/export/").content.decode())
        url = f"/export/{done.task_id}/download/"
        assert url in page and 'http-equiv="refresh"' not in page

        response = committed(lambda: client.get(url))
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store"
        data = json.loads(b"".join(response.streaming_content))
        emails = {row["fields"].get("email") for row in data if row["model"] == "accounts.user"}
        assert acme.owner_email in emails and globex.owner_email not in emails

        # Nobody else: not anonymous, not another tenant's owner with the same link.
        assert committed(lambda: acme.client().get(url)).status_code == 302
        other = committed(lambda: _signed_in(globex).get(url))
        assert other.status_code == 404
    finally:
        Path(done.result_path).unlink(missing_ok=True)


def test_export_page_is_for_owners_only(tenants, db):
    assert tenants["acme"].client().get("/export/").status_code == 302


def test_staff_export_any_tenant_from_the_base_domain(jobs_worker, redis_clean, tenants):
    globex = tenants["globex"]
    staff_email = "exports-staff@example.com"

    def staff_client():
        with schema_context("public"):
            staff = User.objects.filter(email=staff_email).first() or User.objects.create_superuser(
                staff_email, "staff-pass-0123456789"
            )
        client = HttpClient(HTTP_HOST="localhost")
        client.force_login(staff)
        return client

    client = committed(staff_client)
    page_url = f"/staff/exports/{globex.slug}/"
    assert committed(lambda: client.post(page_url)).status_code == 302
    progress = committed(lambda: JobProgress.objects.filter(requester_schema="public").latest("id"))
    assert progress.target_schema == globex.tenant.schema_name

    def finished():
        row = JobProgress.objects.get(pk=progress.pk)
        return row if row.is_finished else None

    done = wait_for(lambda: committed(finished), timeout_s=60, message=jobs_worker.log())
    try:
        url = f"/staff/exports/download/{done.task_id}/"
        assert url in committed(lambda: client.get(page_url).content.decode())
        response = committed(lambda: client.get(url))
        assert response.status_code == 200
        data = json.loads(b"".join(response.streaming_content))
        assert globex.owner_email in {row["fields"].get("email") for row in data}
        # Anonymous visitors are sent to the admin sign-in; the owner's link is not this one.
        assert committed(lambda: HttpClient(HTTP_HOST="localhost").get(url)).status_code == 302
        owner = committed(lambda: _signed_in(globex).get(f"/export/{done.task_id}/download/"))
        assert owner.status_code == 404
    finally:
        Path(done.result_path).unlink(missing_ok=True)
    assert committed(lambda: HttpClient(HTTP_HOST="localhost").get("/staff/exports/nope/")).status_code == 302
