from django.conf import settings
from django.core.management.base import BaseCommand

from fairshare.accounts.purge import personal_data_purge, rounds_due_for_purge


class Command(BaseCommand):
    help = (
        "Purge personal data of every closed round whose last purchase day is more than "
        "FAIRSHARE_PURGE_AFTER_DAYS days ago. Run daily from cron, e.g. "
        "`15 3 * * * fairshare purge_due`."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="override the setting")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, **options):
        days = settings.FAIRSHARE_PURGE_AFTER_DAYS if options["days"] is None else options["days"]
        rounds = rounds_due_for_purge(days=days)
        for round_ in rounds:
            result = personal_data_purge(round=round_, dry_run=options["dry_run"])
            self.stdout.write(
                f"round {round_.pk}: {'would purge' if result.dry_run else 'purged'} "
                f"{result.registrations} registration(s), {len(result.files)} file(s)"
            )
        if not rounds:
            self.stdout.write(f"no finished round older than {days} day(s)")
