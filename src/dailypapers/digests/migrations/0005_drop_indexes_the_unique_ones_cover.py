import django.db.models.deletion
from django.db import migrations, models

# Two foreign-key indexes that only cost writes (bench/digest.py, docs/email.md):
# - sentpaper.paper_id: a digest's dozen papers sit on a dozen different pages of it, so
#   each mark wrote a dozen pages more (on SQLite, to the WAL at every commit). Only
#   deleting a paper reads by it, and that scan is rare (an admin's action).
# - delivery.subscription_id: the unique (subscription, period) index starts with it.
# Dropped by name (the same on SQLite and PostgreSQL): Django's AlterField would rebuild
# each table on SQLite.
SENT_PAPER_INDEX = "digests_sentpaper_paper_id_8312f22f"
DELIVERY_INDEX = "digests_delivery_subscription_id_4c07bbf3"


def _drop(index, table, column):
    return migrations.RunSQL(
        f"DROP INDEX IF EXISTS {index}",
        reverse_sql=f'CREATE INDEX {index} ON "{table}" ("{column}")',
    )


class Migration(migrations.Migration):
    dependencies = [
        ("digests", "0004_sentpaper_subscription_no_own_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="sentpaper",
                    name="paper",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="papers.paper",
                    ),
                ),
                migrations.AlterField(
                    model_name="delivery",
                    name="subscription",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="digests.subscription",
                    ),
                ),
            ],
            database_operations=[
                _drop(SENT_PAPER_INDEX, "digests_sentpaper", "paper_id"),
                _drop(DELIVERY_INDEX, "digests_delivery", "subscription_id"),
            ],
        ),
    ]
