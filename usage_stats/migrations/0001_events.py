from django.db import migrations


def _create(apps, schema_editor):
    from usage_stats import sql

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql.CREATE_EVENTS_TABLE)


def _drop(apps, schema_editor):
    from usage_stats import sql

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql.DROP_EVENTS_TABLE)


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [migrations.RunPython(_create, _drop)]
