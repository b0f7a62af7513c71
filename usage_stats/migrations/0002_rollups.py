"""Hourly rollups, distinct-user bitmaps and the rollup watermark (usage_stats/rollup.py)."""

from django.db import migrations


def _create(apps, schema_editor):
    from usage_stats import sql

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql.CREATE_ROLLUP_TABLES)


def _drop(apps, schema_editor):
    from usage_stats import sql

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql.DROP_ROLLUP_TABLES)


class Migration(migrations.Migration):
    dependencies = [("usage_stats", "0001_events")]
    operations = [migrations.RunPython(_create, _drop)]
