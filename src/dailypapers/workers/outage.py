"""The database going away under a long-running process (PostgreSQL restarted, a failover,
the network cut): the task workers and the scheduler wait for it and go on, with a line in
the log, instead of dying (a worker) or failing forever on a dead connection (the
scheduler)."""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import InterfaceError, OperationalError

OUTAGE_ERRORS = (OperationalError, InterfaceError)


def database_down(exc, using=DEFAULT_DB_ALIAS):
    """Whether `exc` comes from the database being out of reach, rather than from a query
    that fails on a working connection (a missing table: a bug or a missing `migrate`,
    which waiting does not mend): the connection could not be opened, or is gone."""
    if not isinstance(exc, OUTAGE_ERRORS):
        return False
    connection = connections[using]
    if connection.connection is None:
        return True
    try:
        return not connection.is_usable()
    except Exception:  # noqa: BLE001 (whatever the driver says: not usable)
        return True


def reason(exc):
    """The driver's first line ("connection refused", "the connection is closed", ...)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
