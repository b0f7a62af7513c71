"""People's names for routes and events. The dashboards show these and keep the technical
name (`task_list GET`, `tasks.create POST`) on hover and in the CSV exports."""

from __future__ import annotations

# URL names (ingest/routes.py) and API operations, as a person would say them.
ROUTE_NAMES = {
    "task_list": "Task list",
    "task_detail": "Task page",
    "task_create": "New task",
    "task_complete": "Complete a task",
    "task_reopen": "Reopen a task",
    "task_delete": "Delete a task",
    "accounts:login": "Sign-in",
    "accounts:logout": "Sign-out",
    "accounts:password_change": "Change password",
    "accounts:settings": "Settings",
    "accounts:token_create": "Create an API token",
    "accounts:token_revoke": "Revoke an API token",
    "accounts:members": "Members",
    "accounts:member_invite": "Invite a member",
    "accounts:member_deactivate": "Deactivate a member",
    "accounts:member_activate": "Reactivate a member",
    "usage": "Usage page",
    "landing": "Home page",
    "signup": "Sign-up",
    "unresolved": "Page not found",
    "tasks.list": "API: list tasks",
    "tasks.create": "API: create a task",
    "tasks.get": "API: get a task",
    "tasks.update": "API: update a task",
    "tasks.delete": "API: delete a task",
}
EVENT_NAMES = {
    "request": "Page requests",
    "api.call": "API calls",
    "task.created": "Tasks created",
    "task.updated": "Tasks updated",
    "task.completed": "Tasks completed",
    "task.reopened": "Tasks reopened",
    "task.deleted": "Tasks deleted",
    "user.signed_in": "Sign-ins",
    "user.signed_up": "Signups",
    "tenant.created": "Organisations created",
}
NO_ROUTE = "(no route)"


def route_label(route: str) -> str:
    """`task_list GET` -> `Task list (GET)`; an unknown name is shown tidied up."""
    if not route:
        return NO_ROUTE
    name, _, method = route.rpartition(" ")
    if not name:  # stored before routes carried their method
        name, method = route, ""
    human = ROUTE_NAMES.get(name) or name.rpartition(":")[2].replace("_", " ").capitalize()
    return f"{human} ({method})" if method else human


def event_label(event: str) -> str:
    return EVENT_NAMES.get(event, event)
