"""Audit records keyed by the tenant's stable id (Client.uuid): added, filled from the tenant
foreign key for existing rows (rows whose tenant is gone keep NULL: their schema name may
since belong to another organisation, so it is not matched), then indexed."""

from django.db import migrations, models

FILL = """
UPDATE audit_auditrecord AS record SET tenant_uuid = client.uuid
FROM tenants_client AS client
WHERE record.tenant_id = client.id AND record.tenant_uuid IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("tenants", "0004_lifecycle_grace"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditrecord",
            name="tenant_uuid",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="auditrecord",
            name="action",
            field=models.CharField(
                choices=[
                    ("tenant.created", "Tenant created"),
                    ("tenant.renamed", "Tenant renamed"),
                    ("tenant.suspended", "Tenant suspended"),
                    ("tenant.reactivated", "Tenant reactivated"),
                    ("tenant.exported", "Tenant exported"),
                    ("tenant.deleted", "Tenant deleted"),
                    ("tenant.restored", "Tenant restored"),
                    ("tenant.purged", "Tenant purged"),
                    ("tenant.subdomain_changed", "Tenant subdomain changed"),
                    ("tenant.imported", "Tenant imported"),
                    ("domain.added", "Domain added"),
                    ("domain.removed", "Domain removed"),
                    ("domain.primary_changed", "Primary domain changed"),
                    ("user.added", "Person added"),
                    ("user.updated", "Person's profile changed"),
                    ("user.role_changed", "Person's role changed"),
                    ("user.deactivated", "Person deactivated"),
                    ("user.activated", "Person reactivated"),
                    ("api_token.revoked", "API token revoked"),
                ],
                max_length=64,
            ),
        ),
        migrations.AddIndex(
            model_name="auditrecord",
            index=models.Index(fields=["tenant_uuid", "-created_at"], name="audit_tenant_uuid_created_idx"),
        ),
    ]
