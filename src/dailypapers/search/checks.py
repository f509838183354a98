"""System checks of the search settings."""

from django.conf import settings
from django.core.checks import Error, register

ENGINES = ("auto", "tantivy", "tantivy-follow")


@register()
def check_search_engine(app_configs, **kwargs):
    engine = getattr(settings, "SEARCH_ENGINE", "auto")
    if engine in ENGINES:
        return []
    return [
        Error(
            f"DAILYPAPERS_SEARCH_ENGINE={engine!r} is not a keyword engine.",
            hint=f"Use one of {', '.join(ENGINES)} (docs/search.md).",
            id="search.E001",
        )
    ]
