"""The round and channel rules of a registration (``services.registration_plan``)."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.community.models import Committee
from fairshare.core.errors import FieldErrors
from fairshare.registration.models import Channel
from fairshare.rounds.models import Round
from fairshare.rounds.selectors import round_covers_committee


def validate_round(
    *, round: Round, committee: Committee, now: datetime, errors: FieldErrors
) -> None:
    if not round_covers_committee(
        round,
        subdistrict_id=committee.subdistrict_id,
        district_id=committee.subdistrict.district_id,
    ):
        errors.add("committee", _("This committee does not take part in this round."))
    if round.status != Round.Status.OPEN or not (
        round.registration_opens_at <= now < round.registration_closes_at
    ):
        errors.add("round", _("Registration for this round is not open now."))


def validate_written_at(
    written_at: datetime | None,
    *,
    round: Round,
    is_staff: bool,
    now: datetime,
    errors: FieldErrors,
) -> None:
    """The time written on a sheet or noted for a call (``Registration.written_at``): set
    by committee staff only, never in the future nor before the round opened. It is shown
    next to the entry time and never orders: the queue number follows the entry time
    (``acknowledged_at``, always the moment the registration is entered)."""
    if written_at is None:
        return
    if not is_staff:
        errors.add("written_at", _("Only committee staff can set the registration time."))
    elif written_at > now:
        errors.add("written_at", _("The time written on the sheet cannot be in the future."))
    elif written_at < round.registration_opens_at:
        errors.add(
            "written_at",
            _("The registration time must lie between the opening of the round and now."),
        )


def validate_channel(
    channel: str, *, is_staff: bool, photo_attached: bool, errors: FieldErrors
) -> None:
    """The one channel rule: residents register online, or by photo with the photo
    (``registration/photos.py``); every other channel is for committee staff."""
    if channel not in Channel.values or channel == Channel.EMERGENCY:
        # An emergency delivery is recorded with its voucher (allocation/emergency.py).
        errors.add("channel", _("Unknown registration channel."))
    elif not is_staff and not (
        channel == Channel.ONLINE or (channel == Channel.PHOTO and photo_attached)
    ):
        errors.add("channel", _("Only committee staff can register on this channel."))


def resident_channel(channel: str, staff: User | None) -> bool:
    """The resident-facing channels, which take the SMS code when the round asks for it:
    online, and a photo a resident uploads. Staff entries (desk, phone, sheet, a photo or
    mailbox form staff enter) are exempt: they record who entered them (``created_by``)."""
    return channel == Channel.ONLINE or (channel == Channel.PHOTO and staff is None)


# Staff channels where a household without a mobile is registered (landline or none):
# it gets its slip at the desk and is told by hand (allocation/by_hand.py).
PHONE_OPTIONAL_CHANNELS = frozenset({Channel.DESK, Channel.PHONE, Channel.SHEET})


def mobile_required(channel: str) -> bool:
    """The one "a mobile is needed" rule: the resident-facing channels (online, photo)
    need one for the SMS code and the voucher SMS; desk, phone and sheet do not."""
    return channel not in PHONE_OPTIONAL_CHANNELS


def validate_id_check(*, round: Round, channel: str, id_checked: bool, errors: FieldErrors) -> None:
    """A round with ``desk_id_check_required`` takes a desk entry only with the ID checked."""
    if channel == Channel.DESK and round.desk_id_check_required and not id_checked:
        errors.add("id_checked", _("This round requires the ID to be checked at the desk."))
