"""Who imports, into which area, and the places that already exist (read once)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.permissions import covers_subdistrict
from fairshare.accounts.roster.text import compact, fold
from fairshare.accounts.roster.wanted import SubdistrictRef
from fairshare.community.models import Committee, Pharmacy, Subdistrict


def sub_key(ref: SubdistrictRef) -> str:
    return f"#{ref.pk}" if isinstance(ref, Subdistrict) else f"new:{ref}"


@dataclass
class Context:
    """``actor`` None: the command (may create subdistricts); else the page's user, whose
    area limits every row. ``subdistrict``: the default for rows that name none."""

    actor: User | None
    subdistrict: Subdistrict | None
    district_name: str | None
    subdistricts: dict[str, Subdistrict] = field(default_factory=dict)  # code and name → row
    committees: dict[str, Committee] = field(default_factory=dict)  # code → row
    committee_names: dict[tuple[str, str], str] = field(default_factory=dict)  # → code
    pharmacies: dict[str, Pharmacy] = field(default_factory=dict)  # code → row

    @classmethod
    def load(
        cls, *, actor: User | None, subdistrict: Subdistrict | None, district_name: str | None
    ) -> Context:
        ctx = cls(actor=actor, subdistrict=subdistrict, district_name=district_name)
        for sub in Subdistrict.objects.select_related("district"):
            ctx.subdistricts.setdefault(sub.name, sub)
            ctx.subdistricts[sub.code] = sub
        for committee in Committee.objects.select_related("subdistrict", "pharmacy"):
            ctx.committees[committee.code] = committee
            ctx.committee_names[(f"#{committee.subdistrict_id}", committee.name)] = committee.code
        ctx.pharmacies = {p.code: p for p in Pharmacy.objects.select_related("subdistrict")}
        return ctx

    def allowed(self, sub: Subdistrict) -> bool:
        if self.subdistrict is not None and sub.pk != self.subdistrict.pk:
            return False
        return self.actor is None or covers_subdistrict(self.actor, sub)

    def subdistrict_for(self, text: str) -> tuple[SubdistrictRef | None, str | None]:
        """The subdistrict a cell names (or the default when empty), or an error message."""
        value = fold(text)
        if not value:
            if self.subdistrict is not None:
                return self.subdistrict, None
            return None, str(_("Name the subdistrict (code or name)."))
        sub = self.subdistricts.get(value) or self.subdistricts.get(compact(value))
        if sub is not None:
            if not self.allowed(sub):
                return None, str(_("This subdistrict is outside the area of this import."))
            return sub, None
        if self.actor is not None or self.subdistrict is not None:
            return None, str(_("Unknown subdistrict."))
        if len(value) > 16:
            return None, str(_("A new subdistrict's code is at most 16 characters."))
        if not self.district_name:
            return None, str(_("A new subdistrict needs its district: give --district NAME."))
        return value, None
