from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistrationConfig(AppConfig):
    name = "fairshare.registration"
    label = "registration"
    verbose_name = _("Registration")

    def ready(self) -> None:
        from fairshare.accounts.purge import register_purge_step
        from fairshare.registration.purge import (
            core_personal_data_purge,
            registration_personal_data_purge,
            rounds_with_personal_data,
        )

        # The core step first: it reads the round's names and phones to find them in the
        # audit data before the registration step clears them.
        register_purge_step(
            purge=core_personal_data_purge, pending_rounds=rounds_with_personal_data
        )
        register_purge_step(
            purge=registration_personal_data_purge, pending_rounds=rounds_with_personal_data
        )
