from django.urls import path

from fairshare.pharmacy import committee_pages, views

app_name = "pharmacy"
urlpatterns = [
    path("", views.home, name="home"),
    path("scan/", views.scan, name="scan"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation.xlsx", views.reconciliation_xlsx, name="reconciliation_xlsx"),
    path(
        "committees/<str:code>/fulfilment/",
        committee_pages.fulfilment_page,
        name="committee_fulfilment",
    ),
    path("committees/<str:code>/pickup/", committee_pages.pickup_points_page, name="pickup_points"),
    path(
        "committees/<str:code>/pickup/<int:pk>/",
        committee_pages.pickup_point_page,
        name="pickup_point",
    ),
    path(
        "committees/<str:code>/pickup/<int:pk>.pdf",
        committee_pages.pickup_point_pdf,
        name="pickup_point_pdf",
    ),
]
