"""``fairshare allocate --round R --date D [--pharmacy P] [--dry-run]``: run the allocation."""

from __future__ import annotations

from datetime import date as Date

from django.core.management.base import BaseCommand, CommandError

from fairshare.allocation.services import allocation_run
from fairshare.community.models import Pharmacy
from fairshare.core.errors import FieldErrors, ServiceError
from fairshare.core.locking import Busy
from fairshare.rounds.selectors import round_get


class Command(BaseCommand):
    help = "Issue vouchers for the confirmed, unallocated supply of a day (same engine as the API)."

    def add_arguments(self, parser):
        parser.add_argument("--round", type=int, required=True, dest="round_id")
        parser.add_argument("--date", required=True, type=Date.fromisoformat)
        parser.add_argument("--pharmacy", default=None, help="pharmacy code (default: all)")
        parser.add_argument("--dry-run", action="store_true")

    def handle(
        self, *args, round_id: int, date: Date, pharmacy: str | None, dry_run: bool, **options
    ):
        try:
            round_ = round_get(round_id=round_id)
            found = None
            if pharmacy:
                found = Pharmacy.objects.filter(code=pharmacy).first()
                if found is None:
                    raise CommandError(f"unknown pharmacy {pharmacy}")
            result = allocation_run(round=round_, date=date, pharmacy=found, dry_run=dry_run)
        except FieldErrors as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in exc.items())
            ) from None
        except (ServiceError, Busy) as exc:
            raise CommandError(str(getattr(exc, "message", exc))) from None
        for row in result.by_committee:
            self.stdout.write(
                f"{row['pharmacy']} {row['committee']} {row['name']}: "
                f"waiting {row['waiting']}, issued {row['issued']}, "
                f"held for review {row.get('held_for_review', 0)}"
            )
        verb = "would issue" if dry_run else "issued"
        self.stdout.write(f"{verb} {result.issued} vouchers for {date.isoformat()}")
