"""A stable id per organisation: added nullable, filled for existing rows, then made unique."""

import uuid

from django.db import migrations, models


def fill_uuids(apps, schema_editor):
    Client = apps.get_model("tenants", "Client")
    for client in Client.objects.filter(uuid__isnull=True).only("pk"):
        Client.objects.filter(pk=client.pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("tenants", "0002_lifecycle")]

    operations = [
        migrations.AddField(
            model_name="client", name="uuid", field=models.UUIDField(null=True, editable=False)
        ),
        migrations.RunPython(fill_uuids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="client",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
