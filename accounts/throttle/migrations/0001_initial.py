# The table used to belong to the `saas` project package (saas_loginfailure). Its rows
# only matter for the throttle window (15 minutes), so the old table is dropped rather
# than carried over.

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS saas_loginfailure", reverse_sql=migrations.RunSQL.noop),
        migrations.CreateModel(
            name="LoginFailure",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("scope", models.CharField(max_length=63)),
                ("email", models.CharField(max_length=254)),
                ("ip", models.CharField(max_length=45)),
                ("failed_at", models.DateTimeField(db_index=True)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["scope", "email", "ip", "failed_at"], name="loginfailure_key_idx"),
                    models.Index(fields=["ip", "failed_at"], name="loginfailure_ip_idx"),
                ],
            },
        ),
    ]
