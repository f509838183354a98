from django.db import models


class WorkerBeat(models.Model):
    """A task worker's last sign of life (see the package's docstring)."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=255)
    pid = models.IntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"worker {self.worker_id} on {self.host} (pid {self.pid})"
