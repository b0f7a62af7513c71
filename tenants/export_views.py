"""`/export/` on a tenant's host: the owner asks for an export of their organisation, the
page shows its progress and then a download link that only works for them.
`/staff/exports/<slug>/` on the base domain: the same for staff, any tenant (wrapped in
the admin's staff sign-in in saas/urls_public.py)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from tenants.exports import (
    EXPORT_KIND,
    tenant_export_for_download,
    tenant_export_request,
    tenant_export_waits_for_broker,
    tenant_exports_of,
)
from tenants.models import Client
from tenants.selectors import tenant_get

# The page reloads itself this often while an export is unfinished.
REFRESH_S = 2


def _owner_only(request: HttpRequest) -> None:
    if not getattr(request.user, "is_owner", False):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def tenant_export_page(request: HttpRequest) -> HttpResponse:
    _owner_only(request)
    if request.method == "POST":
        tenant_export_request(tenant=request.tenant, actor=request.user, fmt="json")
        return redirect("exports:page")
    return _page(request, tenant=request.tenant, download_url_name="exports:download")


def _page(request: HttpRequest, *, tenant, download_url_name: str) -> HttpResponse:
    exports = tenant_exports_of(actor=request.user, tenant=tenant)
    unfinished = [e for e in exports if not e.is_finished]
    context = {
        "tenant": tenant,
        "exports": exports,
        "download_url_name": download_url_name,
        "refresh_s": REFRESH_S if unfinished else None,
        "waiting_for_broker": any(tenant_export_waits_for_broker(e) for e in unfinished),
    }
    return render(request, "tenants/export.html", context)


@login_required
def tenant_export_download(request: HttpRequest, task_id: str) -> FileResponse:
    _owner_only(request)
    return _download(request, task_id=task_id, slug=request.tenant.slug)


@require_http_methods(["GET", "POST"])
def staff_export_page(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = tenant_get(slug=slug)
    if tenant is None:
        raise Http404
    if request.method == "POST":
        tenant_export_request(tenant=tenant, actor=request.user, fmt="json")
        return redirect(reverse("staff_exports:page", kwargs={"slug": slug}))
    return _page(request, tenant=tenant, download_url_name="staff_exports:download")


def staff_export_download(request: HttpRequest, task_id: str) -> FileResponse:
    progress = tenant_export_for_download(actor=request.user, task_id=task_id)
    tenant = Client.objects.filter(uuid=progress.target_tenant_uuid).first() if progress else None
    return _download(request, task_id=task_id, slug=tenant.slug if tenant is not None else "tenant")


def _download(request: HttpRequest, *, task_id: str, slug: str) -> FileResponse:
    progress = tenant_export_for_download(actor=request.user, task_id=task_id)
    if progress is None or progress.kind != EXPORT_KIND:
        raise Http404
    try:
        handle = open(progress.result_path, "rb")  # noqa: SIM115 (FileResponse closes it)
    except OSError:
        raise Http404 from None
    filename = f"{slug}-export-{progress.created_at:%Y%m%dT%H%M%SZ}.json"
    response = FileResponse(handle, as_attachment=True, filename=filename)
    response["Cache-Control"] = "private, no-store"
    return response
