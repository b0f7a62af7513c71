from django.db import migrations, models


class Migration(migrations.Migration):
    """A column and an index on an existing table of every tenant."""

    dependencies = [("citus_probe", "0001_initial")]
    operations = [
        migrations.AddField(model_name="note", name="rank", field=models.IntegerField(default=0)),
        migrations.AddIndex(
            model_name="note", index=models.Index(fields=["rank"], name="citus_probe_note_rank_idx")
        ),
    ]
