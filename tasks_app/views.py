from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import selectors


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    tasks = selectors.task_list()[:50]
    return render(request, "tasks_app/task_list.html", {"tasks": tasks})
