from django.urls import path

from . import views

app_name = "digests"
urlpatterns = [
    path("subscribe", views.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>", views.confirm, name="confirm"),
    path("subscribe/manage/<str:token>", views.manage, name="manage"),
    path("unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
]
