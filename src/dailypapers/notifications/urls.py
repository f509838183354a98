from django.urls import path

from . import views

urlpatterns = [
    path("notifications", views.notification_list, name="notifications"),
    path("notifications/read", views.notification_read_all, name="notifications_read"),
    path("notifications/<int:pk>", views.notification_open, name="notification"),
    path("notifications/mail", views.notification_mail, name="notifications_mail"),
    path("notifications/stop/<str:token>", views.notification_mail_off, name="notifications_stop"),
]
