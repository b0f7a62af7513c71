"""Task pages. Views parse input with forms, call selectors and services, and render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors as account_selectors
from core.forms import form_errors_add

from . import selectors, services
from .forms import TaskEditForm, TaskFilterForm, TaskForm
from .models import Task


def _get_task_or_404(task_id: int) -> Task:
    task = selectors.task_get(task_id=task_id)
    if task is None:
        raise Http404("No such task.")
    return task


def _next_url(request: HttpRequest, default: str) -> str:
    """Where to go after an action: a local `next` (e.g. the filtered list), else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    assignees = account_selectors.user_assignable_list()
    form = TaskFilterForm(request.GET)
    if form.is_valid():
        tasks = selectors.task_list(viewer=request.user, **form.filters())
        page = selectors.task_page(
            tasks=tasks,
            page=form.cleaned_data["page"],
            per_page=form.cleaned_data["per_page"],
            clamp=True,
        )
        status = 200
    else:
        page, status = None, 400
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "assignees": assignees,
        "query": query.urlencode(),
        "sort_labels": selectors.SORT_LABELS,
        "per_page_choices": selectors.PER_PAGE_CHOICES,
        "today": timezone.localdate(),
        "has_any_task": page is not None and (page.count > 0 or selectors.task_any()),
    }
    return render(request, "tasks_app/task_list.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest) -> HttpResponse:
    form = TaskForm(request.POST or None, assignees=account_selectors.user_assignable_list())
    if request.method == "POST" and form.is_valid():
        try:
            task = services.task_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, f"Created “{task.title}”.")
            return redirect("task_list")
    status = 400 if form.errors else 200
    context = {"form": form, "task": None, "back": reverse("task_list")}
    return render(request, "tasks_app/task_form.html", context, status=status)


@login_required
@require_GET
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    """The task, read-only, with its actions (complete or reopen, edit, delete)."""
    task = _get_task_or_404(task_id)
    context = {
        "task": task,
        "back": _next_url(request, reverse("task_list")),
        "today": timezone.localdate(),
    }
    return render(request, "tasks_app/task_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def task_edit(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _get_task_or_404(task_id)
    initial = {
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "due_date": task.due_date,
        "assignee": task.assignee_id,
    }
    form = TaskEditForm(
        request.POST or None,
        initial=initial,
        assignees=account_selectors.user_assignable_list(also_id=task.assignee_id),
    )
    detail_url = reverse("task_detail", args=[task.pk])
    if request.method == "POST" and form.is_valid():
        try:
            services.task_update(actor=request.user, task=task, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, f"Saved “{task.title}”.")
            return HttpResponseRedirect(_next_url(request, detail_url))
    status = 400 if form.errors else 200
    context = {"form": form, "task": task, "back": _next_url(request, detail_url)}
    return render(request, "tasks_app/task_form.html", context, status=status)


@login_required
@require_POST
def task_complete(request: HttpRequest, task_id: int) -> HttpResponse:
    task = services.task_complete(actor=request.user, task=_get_task_or_404(task_id))
    messages.success(request, f"Completed “{task.title}”.")
    return HttpResponseRedirect(_next_url(request, reverse("task_list")))


@login_required
@require_POST
def task_reopen(request: HttpRequest, task_id: int) -> HttpResponse:
    task = services.task_reopen(actor=request.user, task=_get_task_or_404(task_id))
    messages.success(request, f"Reopened “{task.title}”.")
    return HttpResponseRedirect(_next_url(request, reverse("task_list")))


@login_required
@require_http_methods(["GET", "POST"])
def task_delete(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _get_task_or_404(task_id)
    if request.method == "POST":
        title = task.title
        services.task_delete(actor=request.user, task=task)
        messages.success(request, f"Deleted “{title}”.")
        return HttpResponseRedirect(_next_url(request, reverse("task_list")))
    return render(
        request,
        "tasks_app/task_confirm_delete.html",
        {"task": task, "next": _next_url(request, reverse("task_list"))},
    )
