"""Tasks for tests/deploy/test_database_outage.py, run by real workers and scheduler."""

import time

from django.tasks import task


@task
def note(label):
    return label


@task
def slow_note(label, seconds):
    time.sleep(seconds)  # the database restarts meanwhile: the result cannot be written
    return label
