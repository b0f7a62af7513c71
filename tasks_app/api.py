"""JSON API at /api/v1/ on a tenant's host (django-ninja).

Authentication is a personal token (`Authorization: Bearer <token>`, created on
the settings page) or the browser session (with its CSRF token for writes). Both
are looked up in the current tenant's schema, so another tenant's token is
unknown (401) and another tenant's task id is missing (404).
"""

import datetime as dt
import re
from typing import Annotated, Literal

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Path, Query, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.responses import Status
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import BeforeValidator, ConfigDict

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import User

from . import selectors, services
from .models import Task
from .services import DESCRIPTION_MAX_LENGTH

MAX_ID = selectors.MAX_DB_ID
# Text the database can store: no NUL. Titles also need one visible character.
NO_NUL = r"^[^\x00]*$"
TITLE_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value: object) -> object:
    # pydantic also takes numbers and digit strings as Unix timestamps; the schema
    # promises format "date", so only YYYY-MM-DD is accepted.
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("Use a date in the format YYYY-MM-DD.")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = account_services.api_token_authenticate(raw=token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser session. Writes need the CSRF token, as for any form."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # No session cookie: nothing to check, so a token-less client gets 401, not a CSRF 403.
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        return request.user if request.user.is_authenticated else None


api = NinjaAPI(
    title="Taskhive API",
    version="1.0.0",
    description=(
        "Tasks of the organisation at this address. Authenticate with a personal API token "
        "(Settings → API tokens) sent as `Authorization: Bearer <token>`."
    ),
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionAuth()],
)


class Message(Schema):
    detail: str


class ErrorItem(Schema):
    loc: list[str | int] = Field(..., description='Where the problem is, e.g. ["body", "payload", "title"].')
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[ErrorItem]


class PersonOut(Schema):
    id: int
    email: str
    name: str = Field(..., description="Full name, or the email when none is set.")


class TaskOut(Schema):
    id: int
    title: str
    description: str
    status: Literal["open", "done"]
    due_date: dt.date | None
    assignee: PersonOut | None
    created_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None


class TaskPageOut(Schema):
    count: int = Field(..., description="Tasks matching the filters, on all pages.")
    page: int
    per_page: int
    num_pages: int
    results: list[TaskOut]


class _Input(Schema):
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")


class TaskIn(_Input):
    title: str = Field(..., min_length=1, max_length=Task.TITLE_MAX_LENGTH, pattern=TITLE_PATTERN)
    description: str = Field("", max_length=DESCRIPTION_MAX_LENGTH, pattern=NO_NUL)
    due_date: IsoDate | None = None
    assignee_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="An active person of this organisation."
    )


class TaskPatch(_Input):
    """Only the fields sent are changed. `null` clears due_date or assignee_id."""

    # Not nullable: omitting them leaves them alone, `null` is rejected.
    title: str = Field(None, min_length=1, max_length=Task.TITLE_MAX_LENGTH, pattern=TITLE_PATTERN)
    description: str = Field(None, max_length=DESCRIPTION_MAX_LENGTH, pattern=NO_NUL)
    status: Literal["open", "done"] = None
    due_date: IsoDate | None = None
    assignee_id: int | None = Field(None, ge=1, le=MAX_ID)


def _task_out(task: Task) -> dict:
    assignee = task.assignee
    return {
        "id": task.pk,
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "due_date": task.due_date,
        "assignee": None
        if assignee is None
        else {"id": assignee.pk, "email": assignee.email, "name": assignee.get_full_name()},
        "created_by_id": task.created_by_id,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "completed_at": task.completed_at,
    }


def _field_errors(
    request: HttpRequest, exc: DjangoValidationError, *, payload_fields: dict[str, str]
) -> HttpResponse:
    """A service's ValidationError as the same 422 body pydantic errors get."""
    items = []
    for field, field_messages in exc.message_dict.items():
        name = payload_fields.get(field, field)
        items.extend(
            {"loc": ["body", "payload", name], "msg": message, "type": "value_error"}
            for message in field_messages
        )
    return api.create_response(request, {"detail": items}, status=422)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    items = [
        {
            "loc": list(error.get("loc", ())),
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors
    ]
    return api.create_response(request, {"detail": items}, status=422)


def _assignee(assignee_id: int | None) -> User | None:
    if assignee_id is None:
        return None
    person = account_selectors.user_get(user_id=assignee_id)
    if person is None:
        raise DjangoValidationError({"assignee": ["No person with this id in this organisation."]})
    return person


def _task_or_404(task_id: int) -> Task:
    task = selectors.task_get(task_id=task_id)
    if task is None:
        raise HttpError(404, "Not found.")
    return task


COMMON_ERRORS = {401: Message, 422: ValidationErrorOut}
# Writes with the session cookie but without the CSRF token.
WRITE_ERRORS = {**COMMON_ERRORS, 403: Message}
PAYLOAD_FIELDS = {"assignee": "assignee_id"}
TaskId = Path(..., ge=1, le=MAX_ID, description="The task's id in this organisation.")


@api.get(
    "/tasks",
    response={200: TaskPageOut, **COMMON_ERRORS},
    summary="List tasks",
    description="Same filters, sort and pagination as the task list page. Past the last page, "
    "`results` is empty.",
)
def list_tasks(
    request: HttpRequest,
    status: Literal["open", "done", "all"] = Query("all", description="Filter by status."),
    assignee: str = Query(
        None,
        pattern=r"^(me|none|[1-9][0-9]{0,17})$",
        description="A person's id, `me` or `none` (unassigned).",
    ),
    q: str = Query(
        "",
        max_length=200,
        pattern=NO_NUL,
        description="Words that must all appear in the title or description.",
    ),
    sort: Literal["-created", "created", "due", "-due"] = Query("-created"),
    page: int = Query(1, ge=1, le=1_000_000),
    per_page: int = Query(selectors.DEFAULT_PER_PAGE, ge=1, le=100),
):
    if assignee is not None and assignee not in ("me", "none"):
        assignee = int(assignee)
    tasks = selectors.task_list(viewer=request.auth, status=status, assignee=assignee, q=q, sort=sort)
    result = selectors.task_page(tasks=tasks, page=page, per_page=per_page, clamp=False)
    return {
        "count": result.count,
        "page": result.page,
        "per_page": result.per_page,
        "num_pages": result.num_pages,
        "results": [_task_out(task) for task in result.tasks],
    }


@api.post("/tasks", response={201: TaskOut, 400: Message, **WRITE_ERRORS}, summary="Create a task")
def create_task(request: HttpRequest, payload: TaskIn):
    try:
        task = services.task_create(
            actor=request.auth,
            title=payload.title,
            description=payload.description,
            due_date=payload.due_date,
            assignee=_assignee(payload.assignee_id),
        )
    except DjangoValidationError as exc:
        return _field_errors(request, exc, payload_fields=PAYLOAD_FIELDS)
    return Status(201, _task_out(task))


@api.get("/tasks/{task_id}", response={200: TaskOut, 404: Message, **COMMON_ERRORS}, summary="Get a task")
def get_task(request: HttpRequest, task_id: int = TaskId):
    return _task_out(_task_or_404(task_id))


@api.patch(
    "/tasks/{task_id}",
    response={200: TaskOut, 400: Message, 404: Message, **WRITE_ERRORS},
    summary="Change a task",
    description="Send only the fields to change. Setting `status` to `done` records `completed_at`.",
)
def update_task(request: HttpRequest, payload: TaskPatch, task_id: int = TaskId):
    task = _task_or_404(task_id)
    changes = payload.model_dump(exclude_unset=True)
    try:
        if "assignee_id" in changes:
            changes["assignee"] = _assignee(changes.pop("assignee_id"))
        task = services.task_update(actor=request.auth, task=task, **changes)
    except DjangoValidationError as exc:
        return _field_errors(request, exc, payload_fields=PAYLOAD_FIELDS)
    return _task_out(task)


@api.delete("/tasks/{task_id}", response={204: None, 404: Message, **WRITE_ERRORS}, summary="Delete a task")
def delete_task(request: HttpRequest, task_id: int = TaskId):
    services.task_delete(actor=request.auth, task=_task_or_404(task_id))
    return Status(204, None)
