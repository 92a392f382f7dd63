"""A customer after a whole D-day (`axe deploy customer --from-pack --apply`) on a lab host of its own: what the
runbook's D+1, D+2 and D+7 commands start from. Each test module that needs one makes its own (module scope), so
modules run in parallel on hosts they do not share."""
from __future__ import annotations

import contextlib
import json

from helpers.dday import DDay
from helpers.samples import PACK


@contextlib.contextmanager
def shipped(lab, base, customer: str, legal_name: str, entities: dict[str, str]):
    """Yield a DDay whose customer is live: every service healthy behind the edge. `entities`: id -> legal name."""
    lab.host("acme")  # the lab's emulators and git server are up
    with lab.fresh(customer) as host:
        d = DDay(lab, host, base, customer)
        d.pack = base / f"axelabs-bootstrap-{customer}.json"
        d.pack.write_text(json.dumps(PACK).replace("acme", customer))
        run = d.axe("customers", "add", customer, "--legal-name", legal_name, "--primary-domain", f"{customer}.co.kr",
                    *[a for e, n in entities.items() for a in ("--entity", e, "--entity-name", f"{e}={n}")],
                    "--apply", "--yes")
        assert run.returncode == 0, run.stdout + run.stderr
        # The services the contract names (the pack's ingest adds their slots); without it the customer is T24's.
        d.customers.write_text(d.customers.read_text() + f"services:\n  frame:\n    {customer}:\n      secrets: []\n")
        run = d.axe("deploy", "customer", customer, "--from-pack", str(d.pack), "--apply", "--yes", timeout=900)
        assert run.returncode == 0, run.stdout + run.stderr
        yield d
