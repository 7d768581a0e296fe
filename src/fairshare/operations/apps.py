from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Operators' commands beside the CLI (``fairshare demo``, ``serve``, ``seed_demo``).

    The top layer: it may use every app and the WSGI application; no app imports it.
    """

    name = "fairshare.operations"
    label = "operations"
    verbose_name = "Operations"
