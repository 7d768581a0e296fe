from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from fairshare.accounts.purge import personal_data_purge
from fairshare.core.errors import ServiceError
from fairshare.rounds.models import Round


class Command(BaseCommand):
    help = (
        "Delete photos, phone codes and idempotency records, and clear names, phones, "
        "returnee details, notes, hand-over names, SMS payloads and the SMS log of a "
        "finished round; queue numbers, counts and the ledger stay."
    )

    def add_arguments(self, parser):
        parser.add_argument("--round", type=int, required=True, help="round id")
        parser.add_argument("--dry-run", action="store_true", help="only report what would go")
        parser.add_argument("--force", action="store_true", help="purge even if still open")

    def handle(self, *args, **options):
        round_ = Round.objects.filter(pk=options["round"]).first()
        if round_ is None:
            raise CommandError(f"no round with id {options['round']}")
        try:
            result = personal_data_purge(
                round=round_, force=options["force"], dry_run=options["dry_run"]
            )
        except ServiceError as exc:
            with translation.override("en"):  # in the language of the command's output
                raise CommandError(str(exc.message)) from exc
        # ``files``: the files found (dry run), else those really deleted from disk.
        self.stdout.write(result.summary())
        if options["verbosity"] > 1:
            for name in result.files:
                self.stdout.write(f"  {'would delete' if result.dry_run else 'deleted'} {name}")
