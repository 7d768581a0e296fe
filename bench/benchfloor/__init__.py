"""The benchmark's raw-SQL registration floor, served beside the product for `make bench`.

``bench/run.py`` starts the service with ``DJANGO_SETTINGS_MODULE=benchfloor.settings``
and ``bench/`` on ``PYTHONPATH``: the product's settings with ``ROOT_URLCONF`` pointing
at ``benchfloor.urls``, which is the product's ``fairshare.urls`` plus the floor route.
"""
