"""For the search migrations that only PostgreSQL needs (the loader skips this module:
its name starts with an underscore)."""

from django.db import migrations


def postgres_only(create, drop):
    """An operation that runs the `create` statements on PostgreSQL (`drop` to reverse)
    and does nothing on SQLite."""

    def run(statements):
        def apply(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                for statement in statements:
                    schema_editor.execute(statement)

        return apply

    return migrations.RunPython(run(create), run(drop))
