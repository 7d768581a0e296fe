from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "fairshare.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from fairshare.core import (
            jobs,  # noqa: F401  (registers the "job" outbox handler)
            sms,  # noqa: F401  (registers the "sms" outbox handler)
        )
