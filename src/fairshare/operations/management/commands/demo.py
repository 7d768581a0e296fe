"""``fairshare demo``: set up the embedded demo and serve it (what ``make demo`` runs)."""

from __future__ import annotations

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand

from fairshare.community.models import Household

LOGINS = (
    "district, subdistrict, committee01 … committee25, pharmacy01 … pharmacy05 (password: demo)"
)


class Command(BaseCommand):
    help = "Migrate, load the demo subdistrict if the database is empty, print logins, serve."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-serve", action="store_true")

    def handle(self, *args, port: int, no_serve: bool, **options):
        call_command("migrate", verbosity=0, interactive=False)
        call_command("createcachetable", verbosity=0)
        if not Household.objects.exists():
            self.stdout.write("Loading the demo subdistrict (控江路街道, ~44,270 households)…")
            call_command("seed_demo", quiet=True)
        else:
            self.stdout.write("Demo data already loaded; reusing it.")
        url = f"http://127.0.0.1:{port}/"
        self.stdout.write(self.style.SUCCESS(f"\nFairshare demo: {url}"))
        self.stdout.write(f"Staff logins: {LOGINS}")
        self.stdout.write(
            f"Staff pages: {url}accounts/   Admin: {url}admin/   API: {url}api/v1/openapi.json\n"
        )
        if not no_serve:
            call_command("serve", port=port)
