from django.urls import path

from fairshare.transparency import views

app_name = "transparency"
urlpatterns = [
    path("rounds/<int:round_id>/", views.round_page, name="round"),
    path("rounds/<int:round_id>/committees/<str:code>/", views.board_page, name="board"),
    path(
        "rounds/<int:round_id>/committees/<str:code>/export.json",
        views.board_export_download,
        name="board_export",
    ),
    path("rounds/<int:round_id>/committees/<str:code>/map/", views.map_page, name="map"),
    path("rounds/<int:round_id>/committees/<str:code>/poster.pdf", views.poster_pdf, name="poster"),
    path(
        "staff/rounds/<int:round_id>/committees/<str:code>/map/",
        views.staff_map_page,
        name="staff_map",
    ),
    path("staff/rounds/<int:round_id>/dashboard/", views.dashboard, name="dashboard"),
    path("staff/rounds/<int:round_id>/export/<str:kind>.xlsx", views.xlsx_export, name="xlsx"),
    path("staff/notices/", views.notices_page, name="notices"),
    path("staff/ledger/checkpoints/", views.checkpoint_take_page, name="checkpoint_take"),
]
