"""The product's settings, with the benchmark's URL configuration (see ``__init__``)."""

from fairshare.settings import *  # noqa: F403

ROOT_URLCONF = "benchfloor.urls"
