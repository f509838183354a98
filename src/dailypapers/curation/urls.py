from django.urls import path

from . import views

urlpatterns = [
    path("papers/suggested", views.suggested, name="suggested"),
    path("papers/suggested/feature", views.feature, name="suggested_feature"),
]
