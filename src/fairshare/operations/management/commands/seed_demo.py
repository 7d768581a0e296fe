"""``fairshare seed_demo``: load deterministic synthetic demo data (see operations/demo.py)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction

from fairshare.operations.demo import DEFAULT_HOUSEHOLDS, DEFAULT_SEED, DEMO_PASSWORD, seed_demo
from fairshare.operations.wipe import WipeRefused, database_has_data, wipe_demo_data


class Command(BaseCommand):
    help = (
        "Load synthetic demo data: 杨浦区 / 控江路街道 with 25 committees, 5 pharmacies, "
        f"{DEFAULT_HOUSEHOLDS:,} households, an open round and the demo logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--households",
            type=int,
            default=DEFAULT_HOUSEHOLDS,
            help=f"total households (default {DEFAULT_HOUSEHOLDS:,}; more gives 12 subdistricts)",
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="wipe existing demo data (places, rounds, registrations) first",
        )
        parser.add_argument("--quiet", action="store_true", help="print nothing on success")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(
        self,
        *args: Any,
        households: int,
        seed: int,
        force: bool,
        quiet: bool,
        database: str,
        **options: Any,
    ) -> None:
        if households < 1:
            raise CommandError("--households must be at least 1")
        started = time.perf_counter()
        try:
            with transaction.atomic(using=database):
                if database_has_data(using=database):
                    if not force:
                        raise CommandError(
                            "database already has data; use --force to wipe and reload"
                        )
                    wipe_demo_data(using=database)
                counts = seed_demo(households=households, seed=seed, using=database)
        except WipeRefused as exc:
            raise CommandError(str(exc)) from exc
        except IntegrityError as exc:
            raise CommandError(f"could not load the demo data: {exc}") from exc
        elapsed = time.perf_counter() - started
        if quiet or options.get("verbosity", 1) == 0:
            return
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded in {elapsed:.1f} s (seed {seed})."))
        self.stdout.write(
            f"  1 district (杨浦区), {counts['subdistricts']} subdistrict(s), "
            f"{counts['committees']} committees, {counts['pharmacies']} pharmacies"
        )
        self.stdout.write(
            f"  {counts['buildings']:,} buildings, {counts['households']:,} households, "
            f"{counts['members']:,} roster members; open round 第一轮口罩预约"
        )
        self.stdout.write(f'Demo logins (password "{DEMO_PASSWORD}"):')
        for login, scope in (
            ("district", "district administrator, 杨浦区 (YP)"),
            ("subdistrict", "subdistrict administrator, 控江路街道 (KJ)"),
            ("committee01 … committee25", "committee staff, KJ01 … KJ25"),
            ("pharmacy01 … pharmacy05", "pharmacy staff, P01 … P05"),
        ):
            self.stdout.write(f"  {login:<27} {scope}")
