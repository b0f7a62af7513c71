"""Deletion with a grace period (Client.deleted_at), old hosts that redirect after a change
of subdomain (Domain.redirect_until), and the routing version every change bumps
(tenants/routing.py): a sequence, so bumping it takes no lock and reading it is one cheap
query."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tenants", "0003_client_uuid")]

    operations = [
        migrations.AddField(
            model_name="client", name="deleted_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="domain", name="redirect_until", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS tenants_routes_version",
            "DROP SEQUENCE IF EXISTS tenants_routes_version",
        ),
    ]
