"""Forms for the task pages. They only parse input; services validate and write."""

import re

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import User
from core.forms import visible_text_fields

from . import selectors
from .models import Task
from .services import DESCRIPTION_MAX_LENGTH

ASSIGNEE_FILTER_RE = re.compile(r"^(me|none|[1-9][0-9]{0,17})$")


class DateInput(forms.DateInput):
    input_type = "date"


class TaskForm(forms.Form):
    title = forms.CharField(max_length=Task.TITLE_MAX_LENGTH)
    description = forms.CharField(
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    due_date = forms.DateField(required=False, widget=DateInput(format="%Y-%m-%d"))
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Nobody")

    def __init__(self, *args, assignees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignees
        self.fields["assignee"].label_from_instance = lambda user: user.get_full_name()
        visible_text_fields(self, "title", "description")


class TaskEditForm(TaskForm):
    status = forms.ChoiceField(choices=Task.Status.choices)

    field_order = ["title", "description", "status", "due_date", "assignee"]


class TaskFilterForm(forms.Form):
    """The list's query string. Empty or missing fields take their defaults."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    status = forms.ChoiceField(
        required=False, choices=[("open", "Open"), ("done", "Done"), ("all", "All")], initial="open"
    )
    assignee = forms.CharField(required=False)
    sort = forms.ChoiceField(required=False, choices=list(selectors.SORT_LABELS.items()), initial="-created")
    per_page = forms.TypedChoiceField(
        required=False,
        coerce=int,
        choices=[(n, str(n)) for n in selectors.PER_PAGE_CHOICES],
        empty_value=selectors.DEFAULT_PER_PAGE,
        label="Per page",
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)

    def clean_status(self) -> str:
        return self.cleaned_data.get("status") or "open"

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or "-created"

    def clean_page(self) -> int:
        return self.cleaned_data.get("page") or 1

    def clean_assignee(self) -> str | int | None:
        value = (self.cleaned_data.get("assignee") or "").strip()
        if not value:
            return None
        if not ASSIGNEE_FILTER_RE.match(value):
            raise ValidationError("Choose a person, “me” or “none”.")
        return value if value in ("me", "none") else int(value)

    def filters(self) -> dict:
        """Keyword arguments for selectors.task_list."""
        data = self.cleaned_data
        return {"status": data["status"], "assignee": data["assignee"], "q": data["q"], "sort": data["sort"]}
