from django.urls import include, path, re_path

from . import accounts, search_views, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("robots.txt", views.robots_txt),
    path("", views.home, name="home"),
    path("papers/date/<str:day>", views.papers_by_date, name="papers_by_date"),
    path("papers/week/<str:week>", views.papers_by_week, name="papers_by_week"),
    path("papers/month/<str:month>", views.papers_by_month, name="papers_by_month"),
    path("papers/trending", views.trending, name="trending"),
    # arXiv ids may hold a slash (hep-th/9901001); "<id>.md" belongs to the API.
    re_path(r"^papers/(?P<raw>.+)/vote$", views.vote, name="vote"),
    re_path(r"^papers/(?P<raw>.+)/comments$", views.comment, name="comment"),
    re_path(r"^papers/(?P<raw>.+)/feedback$", search_views.feedback, name="feedback"),
    re_path(r"^papers/(?P<raw>(?!.*\.md$).+)$", views.paper_detail, name="paper"),
    path("submit", views.submit, name="submit"),
    path("search", search_views.search, name="search"),
    path("for-you", search_views.for_you, name="for_you"),
    path("follow", search_views.follow, name="follow"),
    path("about", views.about, name="about"),
    path("u/<str:username>", views.profile, name="profile"),
    path("accounts/", include(accounts.urlpatterns)),
]
