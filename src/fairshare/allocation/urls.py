from django.urls import path

from fairshare.allocation import views

app_name = "allocation"
urlpatterns: list = [
    path("supply/", views.supply_page, name="supply"),
    path("allocate/", views.allocate_page, name="allocate"),
    path("committees/<str:code>/", views.committee_vouchers, name="committee_vouchers"),
    path("committees/<str:code>/slips.pdf", views.committee_slips, name="committee_slips"),
]
