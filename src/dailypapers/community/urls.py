from django.urls import path

from . import views

urlpatterns = [
    path("comments/<int:pk>/reply", views.comment_reply, name="comment_reply"),
    path("comments/<int:pk>/edit", views.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete", views.comment_delete, name="comment_delete"),
    path("comments/<int:pk>/vote", views.comment_vote, name="comment_vote"),
    path("comments/<int:pk>/report", views.comment_report, name="comment_report"),
    path("comments/<int:pk>/hide", views.comment_hide, name="comment_hide"),
    path("comments/<int:pk>/restore", views.comment_restore, name="comment_restore"),
]
