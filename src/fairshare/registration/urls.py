from django.urls import path

from fairshare.registration import (
    appointment_online,
    appointment_views,
    correct_views,
    posters,
    review_views,
    sheet_views,
    staff_views,
    views,
)

app_name = "registration"
urlpatterns = [
    path("done/<str:ticket>/", views.done, name="done"),
    path("<int:round_id>/<str:committee_code>/", views.entry, name="entry"),
    path(
        "<int:round_id>/<str:committee_code>/photo/",
        views.entry,
        {"photo": True},
        name="photo",
    ),
    path(
        "<int:round_id>/<str:committee_code>/appointment/",
        appointment_online.appointment,
        name="appointment",
    ),
    path(
        "<int:round_id>/<str:committee_code>/poster/<int:building_id>/",
        views.poster,
        name="poster",
    ),
    path("posters/<int:round_id>/<str:committee_code>/", posters.posters_page, name="posters"),
    path(
        "posters/<int:round_id>/<str:committee_code>/all.pdf",
        posters.posters_pdf,
        name="posters_pdf",
    ),
    path("desk/", staff_views.desk_home, name="desk_home"),
    path("desk/<int:round_id>/<str:committee_code>/", staff_views.desk, name="desk"),
    path("desk/<int:round_id>/<str:committee_code>/batch/", staff_views.batch, name="batch"),
    path("desk/<int:round_id>/<str:committee_code>/sheets/", sheet_views.sheets, name="sheets"),
    path(
        "desk/<int:round_id>/<str:committee_code>/appointments/",
        appointment_views.appointments,
        name="appointments",
    ),
    path("sheets/<str:code>/", sheet_views.sheet_entry, name="sheet_entry"),
    path("sheets/<str:code>/pdf/", sheet_views.sheet_file, name="sheet_pdf"),
    path("slip/<int:pk>/", staff_views.slip, name="slip"),
    path("review/", review_views.review, name="review"),
    path("review/bulk/", review_views.review_bulk, name="review_bulk"),
    path("review/<int:pk>/<str:action>/", review_views.review_action, name="review_action"),
    path("staff/<int:pk>/", correct_views.detail, name="detail"),
    path("staff/<int:pk>/correct/", correct_views.correct, name="correct"),
    path("staff/<int:pk>/move/", correct_views.move, name="move"),
    path("photos/<int:pk>/", staff_views.photo_file, name="photo_file"),
]
