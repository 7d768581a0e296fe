"""``verify_ledger --file today.json --since yesterday.json``: today extends yesterday.

Two exports of one (round, committee) chain (``ledger_export`` shape). Today's posting
extends yesterday's when every link of yesterday's is in today's at the same place with
the same seq, payload, prev_hash and hash (nothing removed, changed or reordered; new
links only after them), and both verify on their own. When both carry a signed
checkpoint (``checkpoint_format``), both must be genuine, signed with the key given
(``--public-key``) or else with one same key, and match their chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fairshare.registration.checkpoint_format import CheckpointReport, checkpoint_check
from fairshare.registration.verify import verify_export

COMPARED = ("seq", "payload", "prev_hash", "hash")


@dataclass(frozen=True)
class SinceReport:
    round_id: Any
    committee: str
    links: int  # today's
    since_links: int  # yesterday's
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""
    checkpoints: list[CheckpointReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.reason == ""


def export_checkpoint(data: Any, *, public_key: str | None = None) -> CheckpointReport | None:
    """The check of an export's checkpoint, or None when it carries none."""
    if not isinstance(data, dict) or data.get("checkpoint") is None:
        return None
    links = data.get("links")
    return checkpoint_check(
        data["checkpoint"],
        round=data.get("round"),
        committee=str(data.get("committee", "?")),
        links=links if isinstance(links, list) else [],
        public_key=public_key,
    )


def _first_difference(today: list[dict], yesterday: list[dict]) -> tuple[int, str] | None:
    for index, old in enumerate(yesterday):
        seq = old.get("seq", index + 1)
        if index >= len(today):
            return seq, f"link {seq} of yesterday's posting was removed"
        new = today[index]
        changed = [k for k in COMPARED if new.get(k) != old.get(k)]
        if changed:
            return seq, f"link {seq} of yesterday's posting differs today ({', '.join(changed)})"
    return None


def since_check(today: Any, yesterday: Any, *, public_key: str | None = None) -> SinceReport:
    """Does ``today`` extend ``yesterday`` (module doc)? Names the first differing seq."""
    now, before = verify_export(today), verify_export(yesterday)
    base = {
        "round_id": now.round_id,
        "committee": now.committee,
        "links": now.links,
        "since_links": before.links,
        "head_hash": now.head_hash,
    }
    if not now.ok:
        return SinceReport(
            **base, broken_seq=now.broken_seq, reason=f"today's posting: {now.reason}"
        )
    if not before.ok:
        return SinceReport(
            **base, broken_seq=before.broken_seq, reason=f"yesterday's posting: {before.reason}"
        )
    if (now.round_id, now.committee) != (before.round_id, before.committee):
        return SinceReport(**base, broken_seq=0, reason="the postings are of different chains")
    difference = _first_difference(today["links"], yesterday["links"])
    if difference is not None:
        return SinceReport(**base, broken_seq=difference[0], reason=difference[1])
    checked = [
        (which, export_checkpoint(data, public_key=public_key))
        for which, data in (("yesterday's", yesterday), ("today's", today))
    ]
    reports = [report for _, report in checked if report is not None]
    for which, report in checked:
        if report is not None and not report.ok:
            return SinceReport(**base, broken_seq=0, reason=f"{report.reason} (in {which} posting)")
    if len(reports) == 2 and reports[0].public_key != reports[1].public_key:
        return SinceReport(
            **base, broken_seq=0, reason="the two checkpoints are signed with different keys"
        )
    return SinceReport(**base, checkpoints=reports)
