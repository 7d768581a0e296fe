from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView, TemplateView

from fairshare.allocation import resident_views
from fairshare.api import api
from fairshare.core import views as core_views
from fairshare.core.elder import elder_mode_set
from fairshare.transparency import views as transparency_views

urlpatterns = [
    path("", transparency_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("elder/", elder_mode_set, name="elder_mode"),
    # One login for staff, with the lockout's challenge (accounts/throttle.py): the admin's
    # own login form would skip it.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="accounts:login", query_string=True),
        name="admin_login_redirect",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("healthz", core_views.healthz, name="healthz"),
    path("ping", core_views.ping, name="ping"),
    path("accounts/", include("fairshare.accounts.urls")),
    path("staff/rounds/", include("fairshare.allocation.round_urls")),
    # The resident status page shows the voucher, so allocation serves it (under /r/).
    path("r/status/", resident_views.status_page, name="resident_status"),
    path("r/s/<str:token>/", resident_views.status_link_page, name="resident_status_link"),
    # The full privacy notice that every resident page's short notice links to.
    path("privacy/", TemplateView.as_view(template_name="privacy.html"), name="privacy"),
    path("r/", include("fairshare.registration.urls")),
    path("vouchers/", include("fairshare.allocation.urls")),
    path("pharmacy/", include("fairshare.pharmacy.urls")),
    path("public/", include("fairshare.transparency.urls")),
    # Operators' /metrics; by name, as the operations layer sits above this module.
    path("", include("fairshare.operations.urls")),
]

# 403, 404 and 500: the site's translated pages, JSON under /api/ (core/error_views.py).
handler403 = "fairshare.core.error_views.permission_denied"
handler404 = "fairshare.core.error_views.page_not_found"
handler500 = "fairshare.core.error_views.server_error"
