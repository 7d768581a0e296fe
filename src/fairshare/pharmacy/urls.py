from django.urls import path

from fairshare.pharmacy import views

app_name = "pharmacy"
urlpatterns = [
    path("", views.home, name="home"),
    path("scan/", views.scan, name="scan"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation.xlsx", views.reconciliation_xlsx, name="reconciliation_xlsx"),
]
