from django.urls import path

from . import views

urlpatterns = [path("thumbnails/<str:name>", views.thumbnail, name="thumbnail")]
