from django.urls import path

from fairshare.allocation import emergency_pages, mailbox_views, shortfall_pages, views

app_name = "allocation"
urlpatterns: list = [
    path("supply/", views.supply_page, name="supply"),
    path("supply/shortfall/", shortfall_pages.shortfall_page, name="shortfall"),
    path("allocate/", views.allocate_page, name="allocate"),
    path("committees/<str:code>/", views.committee_vouchers, name="committee_vouchers"),
    path("committees/<str:code>/slips.pdf", views.committee_slips, name="committee_slips"),
    path("committees/<str:code>/by-hand/", shortfall_pages.by_hand_page, name="by_hand"),
    path("committees/<str:code>/emergency/", emergency_pages.emergency_page, name="emergency"),
    path("committees/<str:code>/by-hand.csv", shortfall_pages.by_hand_csv, name="by_hand_csv"),
    path(
        "mailbox/<int:round_id>/<str:committee_code>/",
        mailbox_views.mailbox_forms,
        name="mailbox_forms",
    ),
    path(
        "mailbox/<int:round_id>/<str:committee_code>/<int:building_id>.pdf",
        mailbox_views.mailbox_forms_building,
        name="mailbox_forms_building",
    ),
]
