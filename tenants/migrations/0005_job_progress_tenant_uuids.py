"""Existing export records (core.JobProgress) get the stable ids of their tenants, matched by
schema name while those tenants still exist (no schema has been reused yet)."""

from django.db import migrations

FILL = """
UPDATE core_job_progress AS job SET target_tenant_uuid = client.uuid
FROM tenants_client AS client
WHERE job.target_schema = client.schema_name AND job.target_tenant_uuid IS NULL;
UPDATE core_job_progress AS job SET requester_tenant_uuid = client.uuid
FROM tenants_client AS client
WHERE job.requester_schema = client.schema_name AND client.schema_name <> 'public'
  AND job.requester_tenant_uuid IS NULL;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0004_lifecycle_grace"),
        ("core", "0002_job_progress_tenant_uuid"),
    ]

    operations = [migrations.RunSQL(FILL, migrations.RunSQL.noop)]
