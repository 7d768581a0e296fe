import pytest
from django.test import Client
from tests.accounts.world import build_side

pytestmark = pytest.mark.django_db(transaction=False)

FIELDS = ["name","phone","building","room","committee","channel","reason","note","rows","title","body","code","ticket",
          "manufacturer","style","packs","unit_price","date","q","username","password","action","actor","since","until",
          "returned_from","sms_code","pharmacy","helper","expires_at","subdistrict","recipient_name","new-username","new-password","terminal_id","household"]

def test_probe(settings):
    settings.RATELIMIT_ENABLED = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    s = build_side("a", "YPA", "1")
    r, c = s.round.pk, s.committee.code
    urls = ["/", f"/r/{r}/{c}/", "/r/status/", f"/r/done/{s.registration.ticket}/", f"/r/desk/{r}/{c}/", f"/r/desk/{r}/{c}/batch/",
            "/r/review/", f"/r/review/{s.photo_registration.pk}/approve/", f"/r/review/{s.photo_registration.pk}/void/",
            "/vouchers/supply/", "/vouchers/allocate/", f"/vouchers/committees/{c}/",
            f"/public/rounds/{r}/", f"/public/rounds/{r}/committees/{c}/", f"/public/rounds/{r}/committees/{c}/map/",
            f"/public/staff/rounds/{r}/dashboard/", "/public/staff/notices/", "/pharmacy/", "/pharmacy/scan/", "/pharmacy/reconciliation/",
            "/accounts/login/", "/accounts/", "/accounts/helpers/", "/accounts/audit/",
            "/admin/community/household/", "/admin/registration/registration/", "/admin/transparency/notice/add/",
            f"/r/{r}/%00/", f"/r/done/%00/", f"/public/rounds/{r}/committees/%00/", f"/vouchers/committees/%00/"]
    bad = []
    for role in [None, "committee", "subdistrict", "pharmacy", "district"]:
        for val in ["a\x00b", "a\x01b", "\ud800"]:
            for url in urls:
                client = Client(raise_request_exception=False)
                if role:
                    client.force_login(s.users[role])
                data = {f: val for f in FIELDS}
                try:
                    for action in ["", "send_code", "redeem", "create", "assign", "lookup"]:
                        data["action"] = action
                        resp = client.post(url, data)
                        if resp.status_code >= 500:
                            bad.append(("POST", role, repr(val), url, action, resp.status_code))
                    resp = client.get(url, {f: val for f in FIELDS})
                    if resp.status_code >= 500:
                        bad.append(("GET", role, repr(val), url, resp.status_code))
                except Exception as e:
                    bad.append(("EXC", role, repr(val), url, repr(e)[:200]))
    open("/tmp/strings_probe/out.txt","w").write("\n".join(map(str,bad)))
