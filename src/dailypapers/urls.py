from django.contrib import admin
from django.urls import include, path

from dailypapers.api.urls import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("dailypapers.web.urls")),
]
