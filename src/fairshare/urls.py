from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from fairshare.api import api
from fairshare.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("healthz", core_views.healthz, name="healthz"),
    path("ping", core_views.ping, name="ping"),
    path("accounts/", include("fairshare.accounts.urls")),
    path("r/", include("fairshare.registration.urls")),
    path("vouchers/", include("fairshare.allocation.urls")),
    path("pharmacy/", include("fairshare.pharmacy.urls")),
    path("public/", include("fairshare.transparency.urls")),
]

if settings.BENCH_FLOOR:  # benchmarks only (core/benchfloor.py); never set in production
    from fairshare.core.benchfloor import floor_register

    urlpatterns.append(path("bench/floor/<int:round_id>/register", floor_register))
