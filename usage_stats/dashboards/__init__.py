"""Dashboards: periods, the read queries (`selectors`, the stats-side read door), one
builder per panel (`panels`, assembled by `dashboard`), SVG charts, forms and views."""
