from django.contrib import admin
from django.urls import include, path, re_path

from dailypapers.api.papers import paper_markdown
from dailypapers.api.urls import api, api_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api_not_found),  # not django-ninja's HTML 404 ("docs_url = ...")
    path("api/", api.urls),
    re_path(r"^api/", api_not_found),  # JSON 404s under /api/, even for unroutable paths
    path("feeds/", include("dailypapers.feeds.urls")),
    re_path(r"^papers/(?P<id>.+)\.md$", paper_markdown, name="paper-markdown"),
    path("", include("dailypapers.accounts.urls")),
    path("", include("dailypapers.digests.urls")),
    path("", include("dailypapers.notifications.urls")),
    path("", include("dailypapers.community.urls")),
    path("", include("dailypapers.people.urls")),
    path("", include("dailypapers.curation.urls")),  # before web's papers/<id>
    path("", include("dailypapers.web.urls")),
    path("", include("dailypapers.stats.urls")),
    path("", include("dailypapers.thumbnails.urls")),
]

# A database that is down, full or read-only answers 503 with Retry-After (web/errors.py).
handler500 = "dailypapers.web.errors.server_error"
