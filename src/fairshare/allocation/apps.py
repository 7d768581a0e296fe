from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationConfig(AppConfig):
    name = "fairshare.allocation"
    label = "allocation"
    verbose_name = _("Supply and vouchers")

    def ready(self) -> None:
        from fairshare.allocation.chain_checks import register_chain_checks

        # verify_ledger checks the allocation events' links against these rows.
        register_chain_checks()
