from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from fairshare.accounts.purge import personal_data_purge
from fairshare.core.errors import ServiceError
from fairshare.rounds.models import Round


class Command(BaseCommand):
    help = (
        "Delete photos and clear names, phones and returnee details of a finished round; "
        "queue numbers, counts and the ledger stay."
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
        verb = "would purge" if result.dry_run else "purged"
        self.stdout.write(
            f"round {round_.pk}: {verb} {result.registrations} registration(s), "
            f"{len(result.files)} file(s)"
        )
