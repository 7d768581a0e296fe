"""fairshare publish_notice --subdistrict KJ --title ... --body ... [--user subdistrict]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fairshare.accounts.models import User
from fairshare.community.models import Subdistrict
from fairshare.core.errors import FieldErrors, ServiceError
from fairshare.transparency.services import notice_publish


class Command(BaseCommand):
    help = "Publish an official notice (答复口径) for a subdistrict (audited)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--subdistrict", required=True, help="subdistrict code")
        parser.add_argument("--title", required=True)
        parser.add_argument("--body", required=True)
        parser.add_argument(
            "--user", required=True, help="username of the publishing staff member (audited)"
        )

    def handle(self, *args, **opts) -> None:
        sub = Subdistrict.objects.filter(code=opts["subdistrict"]).first()
        if sub is None:
            raise CommandError(f"unknown subdistrict {opts['subdistrict']!r}")
        user = User.objects.filter(username=opts["user"]).first()
        if user is None:
            raise CommandError(f"unknown user {opts['user']!r}")
        try:
            notice = notice_publish(
                actor=user, subdistrict=sub, title=opts["title"], body=opts["body"]
            )
        except FieldErrors as exc:
            raise CommandError(
                "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in exc.items())
            ) from exc
        except ServiceError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(f"published notice {notice.pk}: {notice.title}")
