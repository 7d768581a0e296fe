from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "fairshare.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from fairshare.accounts import signals  # noqa: F401  (audit of logins and logouts)
        from fairshare.accounts.roster import jobs  # noqa: F401  (the roster_import job runner)
