"""Operators' pages: ``/metrics`` (operations/metrics.py)."""

from django.urls import path

from fairshare.operations.metrics import metrics_view

app_name = "operations"
urlpatterns = [path("metrics", metrics_view, name="metrics")]
