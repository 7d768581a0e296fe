from django.urls import path

from fairshare.allocation import round_pages as views

app_name = "rounds"
urlpatterns = [
    path("", views.round_list, name="list"),
    path("new/", views.round_new, name="new"),
    path("<int:round_id>/", views.round_detail, name="detail"),
    path("<int:round_id>/edit/", views.round_edit, name="edit"),
    path("<int:round_id>/mapping/", views.round_mapping, name="mapping"),
    path("<int:round_id>/<str:action>/", views.round_action, name="action"),
]
