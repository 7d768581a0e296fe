from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationConfig(AppConfig):
    name = "fairshare.allocation"
    label = "allocation"
    verbose_name = _("Supply and vouchers")

    def ready(self) -> None:
        from fairshare.allocation.holds import live_voucher_probe
        from fairshare.registration.holds import register_voucher_probe

        # Registration asks which households hold a live voucher (registration/holds.py).
        register_voucher_probe(live_voucher_probe)

        from fairshare.allocation.chain_checks import register_chain_checks

        # verify_ledger checks the allocation events' links against these rows.
        register_chain_checks()
