from django.urls import path, re_path

from . import views

urlpatterns = [
    path("authors/<str:slug>", views.author_page, name="author"),
    path("orgs/<str:name>", views.organization_page, name="organization"),
    re_path(r"^papers/(?P<raw>.+)\.bib$", views.paper_bib, name="paper_bib"),
    re_path(r"^papers/(?P<raw>.+)/authors$", views.paper_authors, name="paper_authors"),
    re_path(r"^papers/(?P<raw>.+)/claim$", views.claim, name="claim"),
    re_path(r"^papers/(?P<raw>.+)/links$", views.paper_links, name="paper_links"),
    path("collections", views.collections, name="collections"),
    path("collections/add", views.collection_add, name="collection_add"),
    path("collections/<int:pk>", views.collection, name="collection"),
    path("collections/<int:pk>.bib", views.collection_bib, name="collection_bib"),
    path("collections/<int:pk>/edit", views.collection_edit, name="collection_edit"),
    path("collections/<int:pk>/delete", views.collection_delete, name="collection_delete"),
    path("collections/<int:pk>/remove", views.collection_remove, name="collection_remove"),
]
