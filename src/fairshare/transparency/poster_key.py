"""The ledger's public key at the foot of the poster's pages (as ``_ledger_key.html``
shows it on the public round page), so a reader can check signed checkpoints."""

from __future__ import annotations

from django.utils.translation import gettext as _
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from fairshare.transparency.checkpoints import ledger_key_info


def ledger_key_draw(c: Canvas, font: str, x: float, y: float) -> None:
    """Two lines from ``y`` up: the key (Ed25519, base64url) and its fingerprint."""
    key = ledger_key_info()
    c.setFont(font, 12)
    c.drawString(x, y + 5 * mm, _("Ledger signing key (%(alg)s):") % {"alg": key["alg"]})
    c.setFont("Courier", 12)
    c.drawString(x + 48 * mm, y + 5 * mm, key["public_key"])
    c.setFont(font, 12)
    c.drawString(x, y, _("Fingerprint:"))
    c.setFont("Courier", 12)
    c.drawString(x + 48 * mm, y, key["fingerprint"])
