"""Rush-proof registration form in the browser (issue 15): the service answers the first
send with 503 and Retry-After (as the database guard does in an outage), the page keeps
what was typed, counts down and sends the same request again with the same
Idempotency-Key by itself; the resident lands on the confirmation, registered once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import flows
from tests.support.liveserver import run_cli

pytestmark = pytest.mark.e2e


def test_a_busy_answer_is_retried_with_the_same_key_and_registers_once(page, app_server):
    round_id = flows.open_round_id(app_server.url)
    home = flows.household(app_server.url, "KJ02", 8)
    page.goto(f"{app_server.url}/r/{round_id}/KJ02/")
    page.locator("#id_building").select_option(label=home["compound"] + home["building"])
    expect(page.locator("#id_room")).to_be_visible()
    page.locator("#id_room").select_option(label=home["room"])
    page.locator("#id_phone").fill("13912345677")
    page.locator("button[name=action][value=register]").click()  # no name yet: the error
    expect(page.locator("body")).to_contain_text("请填写姓名")  # shown as a submit would
    expect(page.locator("#id_phone")).to_have_value("13912345677")
    page.locator("#id_name").fill("钱桂英")

    sent: list[str | None] = []

    def busy_once(route, request):
        if request.method != "POST":
            return route.continue_()
        sent.append(request.headers.get("idempotency-key"))
        if len(sent) == 1:
            return route.fulfill(status=503, headers={"Retry-After": "2"}, body="busy")
        return route.continue_()

    page.route(re.compile(rf".*/r/{round_id}/KJ02/(\?.*)?$"), busy_once)
    page.locator("button[name=action][value=register]").click()
    wait = page.locator(".rush-wait")
    expect(wait).to_be_visible()
    expect(wait).to_contain_text("无需重新填写")
    expect(wait).to_contain_text(re.compile(r"[12] 秒"))
    expect(page.locator("#id_name")).to_have_value("钱桂英")  # nothing to retype
    expect(page).to_have_url(re.compile(r"/r/done/"), timeout=10_000)
    expect(page.locator(".big-number")).to_have_text(re.compile(r"^\s*\d+\s*$"))
    ticket = page.locator(".ticket").inner_text()
    assert len(sent) == 2 and sent[0] and sent[0] == sent[1], sent
    # Registered once: the same household and person again gets the same ticket back.
    page.unroute(re.compile(rf".*/r/{round_id}/KJ02/(\?.*)?$"))
    page.goto(f"{app_server.url}/r/{round_id}/KJ02/")
    page.locator("#id_building").select_option(label=home["compound"] + home["building"])
    page.locator("#id_room").select_option(label=home["room"])
    page.locator("#id_name").fill("钱桂英")
    page.locator("#id_phone").fill("13912345677")
    page.locator("button[name=action][value=register]").click()
    expect(page).to_have_url(re.compile(r"/r/done/"))
    assert page.locator(".ticket").inner_text() == ticket


@pytest.fixture
def round_verifies_phones(app_server):
    """The open round asks for an SMS code for this test only (the demo round does not)."""

    def flip(on: bool) -> None:
        run_cli(
            app_server.env,
            "shell",
            "-c",
            "from fairshare.rounds.models import Round; "
            f"Round.objects.filter(status='open').update(phone_verification={on})",
        )

    flip(True)
    try:
        yield
    finally:
        flip(False)


def test_a_refused_send_code_is_shown_and_not_sent_again(page, app_server, round_verifies_phones):
    """Three codes per phone per ten minutes: the fourth "send code" answers 429. The page
    shows why, instead of counting down and sending another SMS by itself."""
    round_id = flows.open_round_id(app_server.url)
    home = flows.household(app_server.url, "KJ02", 9)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto(f"{app_server.url}/r/{round_id}/KJ02/")
    page.locator("#id_building").select_option(label=home["compound"] + home["building"])
    page.locator("#id_room").select_option(label=home["room"])
    for sent in range(1, 5):
        page.locator("#id_phone").fill("13912345678")
        page.locator("button[name=action][value=send_code]").click()
        expect(page.locator("#id_sms_code")).to_be_visible()
        page.wait_for_load_state()
        if sent < 4:
            expect(page.locator("body")).to_contain_text("验证码已通过短信发送")
    expect(page.locator(".notice-error[role=alert]")).to_be_visible()  # "Too many attempts…"
    expect(page.locator(".rush-wait")).to_be_hidden()
    page.wait_for_timeout(2500)  # a retry after Retry-After would have gone by now (≥ 1 s)
    assert len(posts) == 4, posts
