"""Building sheets: printed per building, entered whole in the sheet's line order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fairshare.registration.models import BuildingSheet, Registration
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db


def _t(minutes_ago: int) -> str:
    return (timezone.localtime() - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%d %H:%M")


def _issue(client, place, staff) -> BuildingSheet:
    client.force_login(staff)
    response = client.post(
        f"/r/desk/{place['round'].pk}/KJ01/sheets/", {"building": place["building"].pk}
    )
    sheet = BuildingSheet.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{sheet.code}/pdf/")
    pdf = client.get(response["Location"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    return sheet


def _post(client, sheet, lines):
    data = {}
    for n, (room, name, phone, time) in enumerate(lines, 1):
        data |= {f"room_{n}": room, f"name_{n}": name, f"phone_{n}": phone, f"time_{n}": time}
    return client.post(f"/r/sheets/{sheet.code}/", data)


def test_sheet_keeps_its_line_order_not_the_written_times(client, place, staff):
    for room in ("302", "303"):
        HouseholdFactory(building=place["building"], room=room)
    sheet = _issue(client, place, staff)
    page = client.get(f"/r/desk/{place['round'].pk}/KJ01/sheets/")
    assert sheet.code in page.content.decode()
    # Line 1 wrote the latest time: the written time is shown but never orders.
    response = _post(
        client,
        sheet,
        [
            ("303", "赵六", "13700000003", _t(5)),
            ("301", "张三明", "13812345678", _t(40)),
            ("302", "王五", "13912345678", _t(20)),
        ],
    )
    assert response.status_code == 200
    regs = list(Registration.objects.order_by("queue_number"))
    assert [(r.household.room, r.queue_number) for r in regs] == [
        ("303", 1),
        ("301", 2),
        ("302", 3),
    ]
    assert all(r.channel == "sheet" for r in regs)
    assert timezone.localtime(regs[0].written_at).strftime("%Y-%m-%d %H:%M") == _t(5)
    sheet.refresh_from_db()
    assert sheet.entered_at is not None and sheet.entered_count == 3
    # Entered once: a second entry writes nothing more.
    _post(client, sheet, [("301", "张三明", "13812345678", _t(40))])
    assert Registration.objects.count() == 3


def test_an_error_line_holds_the_whole_sheet(client, place, staff):
    HouseholdFactory(building=place["building"], room="302")
    sheet = _issue(client, place, staff)
    response = _post(
        client,
        sheet,
        [
            ("301", "张三明", "13812345678", _t(30)),
            ("999", "某人", "13912345678", _t(20)),
            # An empty phone is fine on a sheet (no mobile: told by hand); an
            # unreadable one is not.
            ("302", "王五", "12345", "25:99"),
        ],
    )
    assert response.status_code == 422
    assert Registration.objects.count() == 0
    sheet.refresh_from_db()
    assert sheet.entered_at is None
    text = response.content.decode()
    assert 'value="张三明"' in text and 'value="999"' in text  # the lines are kept
    errors = response.context["rows"]
    assert not errors[0]["errors"]
    assert "room" in errors[1]["errors"]
    assert {"phone", "time"} <= set(errors[2]["errors"])
    # Fixed, the same sheet goes in whole.
    response = _post(
        client,
        sheet,
        [
            ("301", "张三明", "13812345678", _t(30)),
            ("302", "王五", "13912345678", _t(20)),
        ],
    )
    assert response.status_code == 200
    assert list(
        Registration.objects.order_by("queue_number").values_list("household__room", flat=True)
    ) == ["301", "302"]


def test_another_committees_staff_cannot_open_the_sheet(client, place, staff):
    from tests.factories import CommitteeFactory, UserFactory

    sheet = _issue(client, place, staff)
    other = UserFactory(role="committee", committee=CommitteeFactory())
    client.force_login(other)
    assert client.get(f"/r/sheets/{sheet.code}/").status_code == 404
    assert client.get(f"/r/sheets/{sheet.code}/pdf/").status_code == 404
