"""Authors with no letter or digit (":" from a collaboration's byline, "NVIDIA: A. One",
stored before ingest split such bylines) leave the papers' bylines and their own pages."""

from django.db import migrations

WORDLESS = r"^[\W_]*$"


def drop_wordless_authors(apps, schema_editor):
    Author = apps.get_model("papers", "Author")
    Paper = apps.get_model("papers", "Paper")
    PaperAuthor = apps.get_model("papers", "PaperAuthor")
    wordless = Author.objects.filter(name__regex=WORDLESS)
    names = set(wordless.values_list("name", flat=True))
    if not names:
        return
    paper_ids = set(
        PaperAuthor.objects.filter(author__in=wordless).values_list("paper_id", flat=True)
    )
    PaperAuthor.objects.filter(author__in=wordless).delete()
    wordless.delete()
    for paper in Paper.objects.filter(pk__in=paper_ids):
        paper.authors = [entry for entry in paper.authors if entry.get("name") not in names]
        paper.save(update_fields=["authors"])
        # Positions stay the byline's order, counted from 0 as ingest writes them; going up,
        # each move lands on a position already freed.
        links = PaperAuthor.objects.filter(paper=paper).order_by("position")
        for position, link in enumerate(links):
            if link.position != position:
                link.position = position
                link.save(update_fields=["position"])


class Migration(migrations.Migration):
    dependencies = [("papers", "0004_paper_category_newest")]

    operations = [migrations.RunPython(drop_wordless_authors, migrations.RunPython.noop)]
