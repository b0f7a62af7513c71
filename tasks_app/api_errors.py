"""The API's error vocabulary: every error is JSON with a `detail` a person can act on.

- Validation errors are 422 with a list of `{loc, msg, type}`; pydantic's messages are
  kept where they read well and replaced where they would show a regular expression or
  a type name ("String should match pattern '^[^\\x00]*...'").
- A body that is not JSON is a 422 too, as docs/api.md documents (django-ninja says 400).
- 401 says how to authenticate.

Errors raised outside django-ninja (an unknown path under /api/, a 405, a 500) are made
JSON by core.errors and core.middleware.ApiErrorMiddleware.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from core.text import text_problem

UNAUTHORIZED = (
    "Authenticate with a personal API token: `Authorization: Bearer <token>` (Settings → API tokens)."
)
MALFORMED_BODY = "The request body is not valid JSON."
_PATTERN_MESSAGES = {
    "assignee": "Use a person's id, “me” or “none”.",
    "q": "Null characters are not allowed.",
}
_TYPE_MESSAGES = {
    "int_type": "Use a JSON integer (not a string, a decimal or true/false).",
    "int_parsing": "Use a whole number written with digits only.",
    "extra_forbidden": "This field is not part of the request; check its spelling.",
    "missing": "This field is required.",
    "string_type": "Use a JSON string.",
    "bool_type": "Use true or false.",
    "date_from_datetime_parsing": "Use a date in the format YYYY-MM-DD.",
    "date_parsing": "Use a date in the format YYYY-MM-DD.",
    "literal_error": None,  # pydantic's "Input should be 'open' or 'done'" reads well
}


def _message(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    loc = list(error.get("loc", ()))
    field = str(loc[-1]) if loc else ""
    if kind == "string_pattern_mismatch":
        value = error.get("input")
        if field in _PATTERN_MESSAGES:
            return _PATTERN_MESSAGES[field]
        if isinstance(value, str):
            problem = text_problem(value.strip(), allow_empty=field != "title")
            if problem:
                return problem
            if field == "title":
                return "Give the task a title."
        return "Use text with at least one visible character and no control characters."
    if kind == "value_error":
        # Our own validators' messages ("Use a date in the format YYYY-MM-DD.").
        return str(error.get("msg", "")).removeprefix("Value error, ")
    message = _TYPE_MESSAGES.get(kind)
    return message or str(error.get("msg", "")) or "This value is not valid."


def validation_items(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"loc": list(error.get("loc", ())), "msg": _message(error), "type": str(error.get("type", ""))}
        for error in errors
    ]


def install(api: NinjaAPI) -> None:
    """Register the handlers on `api`."""

    @api.exception_handler(NinjaValidationError)
    def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return api.create_response(request, {"detail": validation_items(exc.errors)}, status=422)

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
            item = {"loc": ["body"], "msg": MALFORMED_BODY, "type": "json_invalid"}
            return api.create_response(request, {"detail": [item]}, status=422)
        if isinstance(exc, AuthenticationError) or exc.status_code == 401:
            return api.create_response(request, {"detail": UNAUTHORIZED}, status=401)
        return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
