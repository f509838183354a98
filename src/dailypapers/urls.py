from django.contrib import admin
from django.urls import include, path, re_path

from dailypapers.api.papers import paper_markdown
from dailypapers.api.urls import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("feeds/", include("dailypapers.feeds.urls")),
    re_path(r"^papers/(?P<id>.+)\.md$", paper_markdown, name="paper-markdown"),
    path("", include("dailypapers.accounts.urls")),
    path("", include("dailypapers.digests.urls")),
    path("", include("dailypapers.web.urls")),
]
