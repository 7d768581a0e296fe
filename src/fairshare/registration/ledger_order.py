"""The public order checker, verbatim from docs/ledger.md ("Checking the order").

``check_order(export)`` recomputes, from a committee's ledger export alone, that each
allocation link served exactly the first waiting households by the policy's key given
the run's inputs. It is plain Python (stdlib only) so that anyone can run it; the
text below is the documented program itself (``tests/registration/test_ledger_doc.py``
checks that the doc's block and this module say the same), and ``fairshare
verify_ledger --file`` runs it on every exported board.
"""

# ledger-doc: check_order
import hashlib
import hmac
import json

OFFLINE = {"desk", "phone", "photo", "sheet"}  # the offline channels (the reserve's pool)


def rank(seed: str, link_hash: str) -> str:
    """A registration's lottery rank key: HMAC-SHA256(key=seed, msg=its link's hash)."""
    return hmac.new(seed.encode(), link_hash.encode(), hashlib.sha256).hexdigest()


def home(reg: dict) -> tuple:
    """The household of a registration: (building, room)."""
    return (reg["building"], reg["room"])


def policy_key(run: dict):
    """The order of the run's policy over registrations (smaller first)."""
    if run["policy"] != "lottery":
        return lambda reg: reg["queue_number"]
    first = run["carried_first"]
    return lambda reg: (
        first and reg.get("carried_from") is None,
        rank(run["seed"], reg["hash"]),
        reg["queue_number"],
    )


def even(shares: dict, sizes: dict) -> bool:
    """Whether the building shares are an even split of the pool (water filling)."""
    if any(shares.get(b, 0) > sizes.get(b, 0) for b in set(shares) | set(sizes)):
        return False
    open_ = [shares.get(b, 0) for b in sizes if shares.get(b, 0) < sizes[b]]
    full = [sizes[b] for b in sizes if shares.get(b, 0) == sizes[b]]
    return not open_ or (max(open_) - min(open_) <= 1 and all(n <= max(open_) for n in full))


def expected(run: dict, waiting: list, requeue: dict) -> tuple:
    """(requeued, reserve, general) counts and the queue numbers the run must serve."""
    quota = run["quota"]
    again = sorted((r for r in waiting if home(r) in requeue), key=lambda r: requeue[home(r)])
    rest = sorted((r for r in waiting if home(r) not in requeue), key=policy_key(run))
    n_req = min(len(again), quota)
    offline = [r for r in rest if r["channel"] in OFFLINE]
    n_res = min(quota * run["reserve_pct"] // 100, quota - n_req, len(offline)) if quota else 0
    reserved = {r["queue_number"] for r in offline[:n_res]}
    pool = [r for r in rest if r["queue_number"] not in reserved]
    n_gen = quota - n_req - n_res
    general = pool[:n_gen]
    if run["policy"] == "per_building":
        shares, general = run["buildings"] or {}, []
        taken: dict = {}
        sizes: dict = {}
        for r in sorted(pool, key=lambda r: r["queue_number"]):
            sizes[r["building"]] = sizes.get(r["building"], 0) + 1
            if taken.get(r["building"], 0) < shares.get(r["building"], 0):
                taken[r["building"]] = taken.get(r["building"], 0) + 1
                general.append(r)
        if sum(shares.values()) != n_gen or not even(shares, sizes):
            n_gen = -1  # the building shares are not an even split of the general share
    chosen = again[:n_req] + offline[:n_res] + general
    return (n_req, n_res, n_gen), [r["queue_number"] for r in chosen]


def check_order(export: dict) -> list:
    """The problems found in the export's allocation links (empty: every run is right)."""
    regs: dict = {}  # queue number -> its "registered" payload, its link hash, held or not
    void: set = set()  # queue numbers voided
    served: set = set()  # households holding a live voucher (issued, not expired/cancelled)
    dropped: set = set()  # households that lost their place after an expiry
    requeue: dict = {}  # household -> (seq, index) of the link that requeued it
    closed, problems = False, []
    for link in export["links"]:
        p = json.loads(link["payload"])
        seq, kind = p["seq"], p["kind"]
        if kind == "registered":
            regs[p["queue_number"]] = dict(p, hash=link["hash"], held=p.get("review", False))
        elif kind == "approved":
            regs[p["queue_number"]]["held"] = False
        elif kind == "voided":
            void.add(p["queue_number"])
        elif kind in ("expired", "shortfall"):
            entries = p.get("entries") or [[q, "requeued"] for q in p.get("cancelled", [])]
            for i, (q, outcome) in enumerate(entries):
                served.discard(home(regs[q]))
                if outcome == "requeued":
                    requeue[home(regs[q])] = (seq, i)
                else:
                    dropped.add(home(regs[q]))
        elif kind == "carried":
            closed = True  # the unserved went to another round: this chain serves no more
        elif kind == "emergency":  # staff delivered outside the queue order: served
            if regs[p["queue_number"]]["channel"] != "emergency":
                problems.append(f"link {seq}: an emergency delivery to a queued registration")
            served.add(home(regs[p["queue_number"]]))
        elif kind == "allocation":
            out = served | dropped
            waiting = [
                r
                for q, r in sorted(regs.items())
                if q not in void and not r["held"] and home(r) not in out
            ]
            counts, numbers = expected(p, waiting, requeue)
            got = [item[0] for item in p["served"]]
            if closed and got:
                problems.append(f"link {seq}: serves after the carry-over")
            if counts != (p["requeued"], p["reserve"], p["general"]):
                problems.append(f"link {seq}: class sizes {counts} expected")
            if got != numbers:
                i = next(i for i in range(len(got) + 1) if got[i : i + 1] != numbers[i : i + 1])
                problems.append(f"link {seq}: served {got[i : i + 1]} where {numbers[i : i + 1]}")
            served |= {home(regs[q]) for q in got}
    return problems
