"""A literal with "%" in a template's {% translate %} tag is never found in the catalogue:
Django looks it up with the percent doubled ("%%"), so such a page showed English inside
the Chinese UI (seen on the terminal's out-of-slot verdict: "This voucher's time slot
is 18:30–19:00." under "不在本凭证的时段内"). No {% translate %} literal of the
project's templates holds a "%"; such a message goes through {% blocktranslate %}."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

import fairshare

TAG = re.compile(r"""\{%\s*(?:translate|trans)\s+("[^"]*"|'[^']*')""")
TEMPLATES = sorted(Path(fairshare.__file__).parent.glob("**/templates/**/*.html"))


def _zh(literal: str) -> str:
    with translation.override("zh-hans"):
        return Template("{% load i18n %}{% translate " + literal + " %}").render(Context())


def _percent_literals() -> list[tuple[str, str]]:
    found = []
    for path in TEMPLATES:
        for literal in TAG.findall(path.read_text(encoding="utf-8")):
            if "%" in literal:
                found.append((path.name, literal))
    return found


def test_the_templates_are_read():
    assert len(TEMPLATES) > 50
    assert any(TAG.search(p.read_text(encoding="utf-8")) for p in TEMPLATES)


def test_a_percent_literal_in_translate_stays_english_negative_control():
    """Why the rule exists: the same message, translated in the catalogue, comes out
    English through {% translate %} and Chinese through {% blocktranslate %}."""
    assert (
        _zh('"This voucher\'s time slot is %(slot)s."') == "This voucher's time slot is %(slot)s."
    )
    with translation.override("zh-hans"):
        block = Template(
            '{% load i18n %}{% blocktranslate with slot="%(slot)s" %}'
            "This voucher's time slot is {{ slot }}.{% endblocktranslate %}"
        ).render(Context())
    assert block == "本凭证的时段是 %(slot)s。"


@pytest.mark.parametrize("where, literal", _percent_literals() or [("none", '""')])
def test_no_translate_literal_holds_a_percent_sign(where, literal):
    assert "%" not in literal, f"{where}: {literal} (use blocktranslate)"
