"""The dashboard's range and time-zone controls (GET parameters)."""

from typing import Any

from django import forms

from .periods import DEFAULT_RANGE, DEFAULT_TZ, RANGES, Period, PeriodError, period_resolve

EXPORT_RAW = "raw"


class DashboardFilterForm(forms.Form):
    range = forms.ChoiceField(choices=list(RANGES.items()), required=False, initial=DEFAULT_RANGE)
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    tz = forms.CharField(
        required=False,
        max_length=64,
        label="Time zone",
        initial=DEFAULT_TZ,
        widget=forms.TextInput(attrs={"list": "usage-timezones", "autocomplete": "off"}),
    )
    export = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        try:
            cleaned["period"] = period_resolve(
                key=cleaned.get("range") or DEFAULT_RANGE,
                tz_name=cleaned.get("tz") or DEFAULT_TZ,
                start_date=cleaned.get("start"),
                end_date=cleaned.get("end"),
            )
        except PeriodError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return cleaned

    @property
    def period(self) -> Period:
        return self.cleaned_data["period"]

    def query(self) -> str:
        """The current range as a query string, for export links."""
        from django.http import QueryDict

        query = QueryDict(mutable=True)
        period = self.period
        query["range"] = period.key
        query["tz"] = period.tz_name
        if period.key == "custom":
            query["start"] = self.cleaned_data["start"].isoformat()
            query["end"] = self.cleaned_data["end"].isoformat()
        return query.urlencode()
