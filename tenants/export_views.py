"""`/export/` on a tenant's host: the owner asks for an export of their organisation, the
page shows its progress and then a download link that only works for them."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tenants.exports import (
    tenant_export_for_download,
    tenant_export_request,
    tenant_export_waits_for_broker,
    tenant_exports_of,
)

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
    exports = tenant_exports_of(actor=request.user, tenant=request.tenant)
    unfinished = [e for e in exports if not e.is_finished]
    waiting = any(tenant_export_waits_for_broker(e) for e in unfinished)
    context = {
        "exports": exports,
        "refresh_s": REFRESH_S if unfinished else None,
        "waiting_for_broker": waiting,
    }
    return render(request, "tenants/export.html", context)


@login_required
def tenant_export_download(request: HttpRequest, task_id: str) -> FileResponse:
    _owner_only(request)
    progress = tenant_export_for_download(actor=request.user, task_id=task_id)
    if progress is None:
        raise Http404
    try:
        handle = open(progress.result_path, "rb")  # noqa: SIM115 (FileResponse closes it)
    except OSError:
        raise Http404 from None
    filename = f"{request.tenant.slug}-export-{progress.created_at:%Y%m%dT%H%M%SZ}.json"
    response = FileResponse(handle, as_attachment=True, filename=filename)
    response["Cache-Control"] = "private, no-store"
    return response
