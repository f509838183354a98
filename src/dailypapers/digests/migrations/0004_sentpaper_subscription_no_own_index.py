import django.db.models.deletion
from django.db import migrations, models

# The unique (subscription, paper) index serves every lookup by subscription; the foreign
# key's own index only cost an update per row written. Dropped by name (the same on SQLite
# and PostgreSQL): Django's AlterField would rebuild the whole table on SQLite.
INDEX = "digests_sentpaper_subscription_id_b33e390c"


class Migration(migrations.Migration):
    dependencies = [
        ("digests", "0003_follow_organisations"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="sentpaper",
                    name="subscription",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sent_papers",
                        to="digests.subscription",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {INDEX}",
                    reverse_sql=(
                        f'CREATE INDEX {INDEX} ON "digests_sentpaper" ("subscription_id")'
                    ),
                ),
            ],
        ),
    ]
