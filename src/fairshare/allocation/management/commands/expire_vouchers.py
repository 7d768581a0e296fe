"""``fairshare expire_vouchers [--today D]``: expire unredeemed vouchers past their validity.

Run it daily (e.g. from cron shortly after midnight). Each expired voucher's
household goes back to the head of its committee's queue once (round setting).
"""

from __future__ import annotations

from datetime import date as Date

from django.core.management.base import BaseCommand
from django.utils import timezone

from fairshare.allocation.services import voucher_expire_due


class Command(BaseCommand):
    help = "Mark issued vouchers whose validity ended before today as expired."

    def add_arguments(self, parser):
        parser.add_argument("--today", type=Date.fromisoformat, default=None)

    def handle(self, *args, today: Date | None, **options):
        count = voucher_expire_due(today=today or timezone.localdate())
        self.stdout.write(f"expired {count} vouchers")
