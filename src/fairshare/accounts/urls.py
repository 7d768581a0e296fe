from django.contrib.auth import views as auth_views
from django.urls import path

from fairshare.accounts import views
from fairshare.accounts.roster import views as roster_views

app_name = "accounts"
urlpatterns = [
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.staff_home, name="home"),
    path("helpers/", views.helpers, name="helpers"),
    path("audit/", views.audit_log, name="audit"),
    path("password/", views.password_change_page, name="password_change"),
    path("staff/", views.staff_accounts, name="staff_accounts"),
    path("staff/<int:user_id>/", views.staff_account_action, name="staff_account_action"),
    path("import/", roster_views.roster_upload, name="roster_import"),
    path("import/jobs/<int:job_id>/", roster_views.roster_job, name="roster_job"),
    path(
        "import/jobs/<int:job_id>/status/",
        roster_views.roster_job_status,
        name="roster_job_status",
    ),
]
