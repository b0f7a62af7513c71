"""JSON API at /api/v1/ on a tenant's host (django-ninja).

Authentication is a personal token (`Authorization: Bearer <token>`, created on
the settings page) or the browser session (with its CSRF token for writes). Both
are looked up in the current tenant's schema, so another tenant's token is
unknown (401) and another tenant's task id is missing (404). On the shared API host
(`api.<BASE_DOMAIN>`, tenants/api_host.py) the tenant is the `X-Tenant-ID` header's and
only tokens are accepted.

Types are strict: ids are JSON integers (not `"1"`, `1.0` or `true`), query and path
integers are plain digits. Every error is JSON (tasks_app/api_errors.py).
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
from core.text import OPTIONAL_TEXT_PATTERN, STORABLE_TEXT_PATTERN, VISIBLE_TEXT_PATTERN

from . import api_errors, selectors, services
from .models import Task
from .services import DESCRIPTION_MAX_LENGTH

MAX_ID = selectors.MAX_DB_ID
# core/text.py: a title needs a visible character, and neither may hold NUL or bidi controls.
NO_NUL = STORABLE_TEXT_PATTERN
TITLE_PATTERN = VISIBLE_TEXT_PATTERN
DESCRIPTION_PATTERN = OPTIONAL_TEXT_PATTERN
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DIGITS = re.compile(r"[0-9]{1,19}")


def _iso_date_only(value: object) -> object:
    # pydantic also takes numbers and digit strings as Unix timestamps; the schema
    # promises format "date", so only YYYY-MM-DD is accepted.
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("Use a date in the format YYYY-MM-DD.")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]


def _digits_only(value: object) -> object:
    # Query and path values arrive as text; pydantic's lax mode would take "1.0" or " 1".
    if type(value) is int or (isinstance(value, str) and _DIGITS.fullmatch(value)):
        return value
    raise ValueError("Use a whole number written with digits only.")


DigitsInt = Annotated[int, BeforeValidator(_digits_only)]


def _json_integer(value: object) -> object:
    # A JSON integer, as JSON Schema means it (1 and 1.0 alike); never a string ("1",
    # "1.0") or a boolean (`true` is 1 to pydantic's lax mode).
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    raise ValueError("Use a JSON integer (not a string, a fraction or true/false).")


# Constraints first, inside the Annotated, so the schema says `minimum`/`maximum` (pydantic puts
# a Field's ge/le on an Optional's union as unknown keys otherwise).
AssigneeId = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_json_integer)]


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
        # The shared API host takes tokens only: its tenant comes from a header.
        if getattr(request, "api_host_tenant", False):
            return None
        return request.user if request.user.is_authenticated else None


TENANT_HEADER_PARAMETER = {
    "name": "X-Tenant-ID",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "On the shared API host `api.<BASE_DOMAIN>` only, and required there: the "
    "organisation's subdomain (`acme` for acme.<BASE_DOMAIN>). Missing: 400 `Tenant ID missing`; "
    "no such organisation: 404; a token of another organisation: 401. Ignored on an "
    "organisation's own host.",
}


class TaskhiveAPI(NinjaAPI):
    """django-ninja's API, with the shared host's tenant header in the OpenAPI schema."""

    def validation_error_from_error_contexts(self, error_contexts):
        """django-ninja's, keeping each error's input for tasks_app/api_errors.py to word its
        message by (the input is never echoed back)."""
        errors = []
        for context in error_contexts:
            model = context.model
            for item in context.pydantic_validation_error.errors(include_url=False):
                loc = model.__ninja_flatten_map_reverse__.get(item["loc"], item["loc"])
                errors.append(
                    {
                        "loc": (model.__ninja_param_source__, *loc),
                        "msg": item["msg"],
                        "type": item["type"],
                        "input": item.get("input"),
                    }
                )
        return NinjaValidationError(errors)

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        components = schema.setdefault("components", {})
        components.setdefault("parameters", {})["TenantId"] = TENANT_HEADER_PARAMETER
        for path_item in schema["paths"].values():
            for operation in path_item.values():
                operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/TenantId"})
        return schema


api = TaskhiveAPI(
    title="Taskhive API",
    version="1.0.0",
    description=(
        "Tasks and people of the organisation at this address. Authenticate with a personal "
        "API token (Settings → API tokens) sent as `Authorization: Bearer <token>`. On the shared "
        "API host `api.<BASE_DOMAIN>`, also send `X-Tenant-ID: <subdomain>`: a missing header is a "
        "400, an unknown organisation a 404, and another organisation's token a 401. Every error "
        "is JSON with a `detail`."
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


class PersonListItem(PersonOut):
    role: Literal["owner", "member"]
    active: bool = Field(..., description="Deactivated people keep their tasks but cannot be assigned.")


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


ASSIGNEE_DESCRIPTION = (
    "The id of an active person of this organisation (`GET /api/v1/people`). Any other id, "
    "or a deactivated person newly assigned, is a 422 naming `assignee_id`."
)


class _Input(Schema):
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")


class TaskIn(_Input):
    title: str = Field(
        ...,
        min_length=1,
        max_length=Task.TITLE_MAX_LENGTH,
        pattern=TITLE_PATTERN,
        description="At least one visible character; no bidirectional control characters.",
    )
    description: str = Field(
        "",
        max_length=DESCRIPTION_MAX_LENGTH,
        pattern=DESCRIPTION_PATTERN,
        description="Empty, or with a visible character; no bidirectional control characters.",
    )
    due_date: IsoDate | None = None
    assignee_id: AssigneeId | None = Field(None, description=ASSIGNEE_DESCRIPTION)


class TaskPatch(_Input):
    """Only the fields sent are changed. `null` clears due_date or assignee_id."""

    # Not nullable: omitting them leaves them alone, `null` is rejected.
    title: str = Field(None, min_length=1, max_length=Task.TITLE_MAX_LENGTH, pattern=TITLE_PATTERN)
    description: str = Field(None, max_length=DESCRIPTION_MAX_LENGTH, pattern=DESCRIPTION_PATTERN)
    status: Literal["open", "done"] = None
    due_date: IsoDate | None = None
    assignee_id: AssigneeId | None = Field(None, description=ASSIGNEE_DESCRIPTION)


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


api_errors.install(api)


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


COMMON_ERRORS = {401: Message, 404: Message, 422: ValidationErrorOut}
# Writes with the session cookie but without the CSRF token.
WRITE_ERRORS = {**COMMON_ERRORS, 403: Message}
PAYLOAD_FIELDS = {"assignee": "assignee_id"}
TaskId = Path(..., ge=1, le=MAX_ID, description="The task's id in this organisation.")


@api.get(
    "/people",
    response={200: list[PersonListItem], **COMMON_ERRORS},
    summary="List people",
    description="Everyone in the organisation, owners first, active before deactivated: "
    "the ids to use as `assignee_id`.",
)
def list_people(request: HttpRequest):
    return [
        {
            "id": person.pk,
            "name": person.get_full_name(),
            "email": person.email,
            "role": person.role,
            "active": person.is_active,
        }
        for person in account_selectors.user_list()
    ]


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
    page: Annotated[int, BeforeValidator(_digits_only)] = Query(1, ge=1, le=1_000_000),
    per_page: Annotated[int, BeforeValidator(_digits_only)] = Query(selectors.DEFAULT_PER_PAGE, ge=1, le=100),
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


@api.post("/tasks", response={201: TaskOut, **WRITE_ERRORS}, summary="Create a task")
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


@api.get("/tasks/{task_id}", response={200: TaskOut, **COMMON_ERRORS}, summary="Get a task")
def get_task(request: HttpRequest, task_id: DigitsInt = TaskId):
    return _task_out(_task_or_404(task_id))


@api.patch(
    "/tasks/{task_id}",
    response={200: TaskOut, **WRITE_ERRORS},
    summary="Change a task",
    description="Send only the fields to change. Setting `status` to `done` records `completed_at`.",
)
def update_task(request: HttpRequest, payload: TaskPatch, task_id: DigitsInt = TaskId):
    task = _task_or_404(task_id)
    changes = payload.model_dump(exclude_unset=True)
    try:
        if "assignee_id" in changes:
            changes["assignee"] = _assignee(changes.pop("assignee_id"))
        task = services.task_update(actor=request.auth, task=task, **changes)
    except DjangoValidationError as exc:
        return _field_errors(request, exc, payload_fields=PAYLOAD_FIELDS)
    return _task_out(task)


@api.delete("/tasks/{task_id}", response={204: None, **WRITE_ERRORS}, summary="Delete a task")
def delete_task(request: HttpRequest, task_id: DigitsInt = TaskId):
    services.task_delete(actor=request.auth, task=_task_or_404(task_id))
    return Status(204, None)
