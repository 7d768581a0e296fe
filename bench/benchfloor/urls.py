"""The product's URLs plus ``POST /bench/floor/<round>/register`` (``views.floor_register``)."""

from django.urls import path

from benchfloor.views import floor_register
from fairshare.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    *product_urlpatterns,
    path("bench/floor/<int:round_id>/register", floor_register),
]
