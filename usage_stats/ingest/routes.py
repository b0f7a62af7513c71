"""What a request is called in the usage events: `route` names the operation and its
method (`task_list GET`, `tasks.create POST`), and requests that are not a person using
the product (static files, the favicon, health probes) are not recorded at all.

Route names come from URL names, never from paths, so their number stays bounded.
"""

from __future__ import annotations

import inspect
from functools import lru_cache
from typing import Any

from django.conf import settings

UNRESOLVED_ROUTE = "unresolved"
API_PREFIX = "/api/"
# Machine traffic: load balancer and readiness probes, browsers' favicon fetches, the
# staff collector health JSON. Static files are matched by STATIC_URL's prefix.
NOT_USER_PATHS = frozenset({"/healthz", "/healthz/", "/favicon.ico", "/robots.txt", "/stats/health/"})


def is_user_request(path: str) -> bool:
    """False for static files, the favicon and health probes: not usage of the product."""
    if path in NOT_USER_PATHS:
        return False
    static = getattr(settings, "STATIC_URL", None) or "/static/"
    if not static.startswith("/"):
        static = "/" + static
    return not path.startswith(static)


def operation_name(function_name: str) -> str:
    """`create_task` -> `tasks.create`, `list_tasks` -> `tasks.list`: resource then verb."""
    verb, _, noun = function_name.partition("_")
    if not noun:
        return function_name
    return f"{noun if noun.endswith('s') else noun + 's'}.{verb}"


@lru_cache(maxsize=256)
def _api_operation(view: Any, method: str) -> str | None:
    """The name of the django-ninja operation that serves `method` on this URL's view."""
    path_view = inspect.getclosurevars(view).nonlocals.get("self")
    for operation in getattr(path_view, "operations", ()):
        if method in operation.methods:
            return operation_name(operation.view_func.__name__)
    return None


def request_route(request: Any, method: str) -> str:
    """`<operation> <METHOD>`: the API operation (one URL serves several), else the URL name."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return f"{UNRESOLVED_ROUTE} {method}"
    name = None
    if request.path.startswith(API_PREFIX):
        try:
            name = _api_operation(match.func, method)
        except (TypeError, ValueError):  # not a ninja view
            name = None
    return f"{name or match.view_name} {method}"
