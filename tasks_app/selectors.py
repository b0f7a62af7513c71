"""Reads for tasks, shared by the web pages and the JSON API."""

from dataclasses import dataclass

from django.core.paginator import EmptyPage, Paginator
from django.db.models import F, Q, QuerySet

from accounts.models import User

from .models import Task

MAX_DB_ID = 2**63 - 1
STATUS_FILTERS = ("open", "done", "all")
# Sort keys offered to people -> ORDER BY; id breaks ties so pages never overlap.
SORTS = {
    "-created": (F("created_at").desc(), F("id").desc()),
    "created": (F("created_at").asc(), F("id").asc()),
    "due": (F("due_date").asc(nulls_last=True), F("id").asc()),
    "-due": (F("due_date").desc(nulls_last=True), F("id").desc()),
}
SORT_LABELS = {
    "-created": "Newest first",
    "created": "Oldest first",
    "due": "Due soonest",
    "-due": "Due latest",
}
PER_PAGE_CHOICES = (10, 25, 50, 100)
DEFAULT_PER_PAGE = 25
MAX_SEARCH_TERMS = 10


@dataclass(frozen=True)
class TaskPage:
    tasks: list[Task]
    count: int
    page: int
    per_page: int
    num_pages: int


def task_list(
    *,
    viewer: User,
    status: str = "all",
    assignee: str | int | None = None,
    q: str = "",
    sort: str = "-created",
) -> QuerySet[Task]:
    """Tasks matching the filters, sorted. `assignee` is a user id, "me" or "none".

    Every search term must appear in the title or the description (case-insensitive).
    """
    tasks = Task.objects.select_related("assignee")
    if status in ("open", "done"):
        tasks = tasks.filter(status=status)
    if assignee == "me":
        tasks = tasks.filter(assignee_id=viewer.pk)
    elif assignee == "none":
        tasks = tasks.filter(assignee__isnull=True)
    elif isinstance(assignee, int):
        tasks = tasks.filter(assignee_id=assignee) if 0 < assignee <= MAX_DB_ID else tasks.none()
    for term in q.split()[:MAX_SEARCH_TERMS]:
        tasks = tasks.filter(Q(title__icontains=term) | Q(description__icontains=term))
    return tasks.order_by(*SORTS.get(sort, SORTS["-created"]))


def task_page(*, tasks: QuerySet[Task], page: int, per_page: int, clamp: bool) -> TaskPage:
    """One page of `tasks` in two queries (count + rows), whatever the page size.

    With `clamp`, a page past the end shows the last page (the web list); without,
    it is empty (the API, where a client loops until no results come back).
    """
    paginator = Paginator(tasks, per_page)
    if clamp:
        current = paginator.get_page(page)
    else:
        try:
            current = paginator.page(page)
        except EmptyPage:
            return TaskPage([], paginator.count, page, per_page, paginator.num_pages)
    return TaskPage(list(current.object_list), paginator.count, current.number, per_page, paginator.num_pages)


def task_get(*, task_id: int) -> Task | None:
    """The task with this id in the current tenant, or None (also for ids no task could have)."""
    if not 0 < task_id <= MAX_DB_ID:
        return None
    return Task.objects.select_related("assignee", "created_by").filter(pk=task_id).first()


def task_any() -> bool:
    """Whether the organisation has any task at all (an empty list then invites the first)."""
    return Task.objects.exists()
