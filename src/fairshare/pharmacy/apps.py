from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PharmacyConfig(AppConfig):
    name = "fairshare.pharmacy"
    label = "pharmacy"
    verbose_name = _("Pharmacy")

    def ready(self) -> None:
        from fairshare.accounts.purge import register_purge_step
        from fairshare.pharmacy.purge import (
            pharmacy_personal_data_purge,
            rounds_with_pharmacy_personal_data,
        )

        register_purge_step(
            purge=pharmacy_personal_data_purge, pending_rounds=rounds_with_pharmacy_personal_data
        )
