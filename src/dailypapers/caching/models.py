from django.db import models


class Generation(models.Model):
    """One row: the site's data generation (see the package's docstring)."""

    value = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField()

    def __str__(self):
        return f"generation {self.value} ({self.changed_at:%Y-%m-%d %H:%M:%S})"
