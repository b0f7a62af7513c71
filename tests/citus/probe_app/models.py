from django.db import models


class Note(models.Model):
    text = models.CharField(max_length=50)
    rank = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["rank"], name="citus_probe_note_rank_idx")]

    def __str__(self) -> str:
        return self.text
