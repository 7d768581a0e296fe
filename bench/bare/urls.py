"""The bare app's two calibration routes (see ``bare/__init__``)."""

from benchfloor.views import floor_register
from django.urls import path

from bare.views import ping

urlpatterns = [
    path("ping", ping),
    path("bench/floor/<int:round_id>/register", floor_register),
]
