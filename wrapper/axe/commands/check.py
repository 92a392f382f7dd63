"""`axe check d7 CUSTOMER`: the runbook's D+7 review in one read-only command. Health from outside, backups fresh and
verified, frame's audit log active (an entry by a person, not only the system's), the vault organization as planned;
each finding with its next step. Exit 0 only when there is none."""
from __future__ import annotations

from .. import inventory, report
from ..runner import run_playbook
from ..settings import Settings

VERIFY_MAX_DAYS = 7  # the review asks for a restore proven within its own week


def d7_findings(customer: str, d7: dict, now_iso: str | None = None) -> list[dict]:
    """[{area, problem, next}] from what the review's run reported (pure)."""
    out = []

    def add(area, problem, next_step):
        out.append({"area": area, "problem": problem, "next": next_step})

    health = d7.get("health") or {}
    bad = sorted(f"{s} {c or 'no answer'}" for s, c in health.items() if c != 200)
    if not health:
        add("health", f"nothing was checked from outside: {d7.get('health_error') or 'no answer'}",
            f"axe health {customer}")
    elif bad:
        add("health", "not answering 200 from outside: " + ", ".join(bad), f"axe health {customer} shows where; "
            f"axe deploy SERVICE {customer} --apply")

    backup = d7.get("backup") or {}
    if not backup:
        add("backup", f"the backup agent did not answer: {d7.get('backup_error') or 'not installed'}",
            f"axe backup {customer} --now --apply")
    else:
        for f in backup.get("findings") or []:
            add("backup", f["problem"], f["next"])
        verify = backup.get("last_verify")
        if backup.get("latest"):
            if not verify:
                add("backup", "no backup has ever been restored (verified)", f"axe backup verify {customer}")
            elif not verify.get("ok"):
                add("backup", f"the last verify failed: {verify.get('error')}", f"axe backup verify {customer}")
            elif now_iso and _days_between(verify.get("verified_at"), now_iso) > VERIFY_MAX_DAYS:
                add("backup", f"the last verify is from {verify.get('verified_at')}, over {VERIFY_MAX_DAYS} days ago",
                    f"axe backup verify {customer}")

    errors = d7.get("audit_errors") or {}
    for service, audit in sorted((d7.get("audit") or {}).items()):
        if audit is None:
            add("audit", f"{service}'s audit log could not be read: {errors.get(service) or 'no answer'}",
                f"axe health {customer}")
        elif not audit.get("by_people"):
            add("audit", f"{service}'s audit log has no entry by a person yet ({audit.get('entries', 0)} by the "
                         "system): no employee has worked through it",
                "ask the customer's admin whether staff set up the Frame connector (D+2), then "
                f"axe check d7 {customer}")

    vault = d7.get("vault_org")
    if vault is not None and vault.get("error"):
        add("vault", f"the vault organization could not be checked: {vault['error']}",
            vault.get("next") or f"axe vault session {customer} --verify")
    elif vault is not None:
        if vault.get("changes"):
            add("vault", "the vault organization is not as planned: " + "; ".join(vault["changes"]),
                f"axe vault org {customer} --apply")
        for problem in vault.get("findings") or []:
            add("vault", problem, f"the organization's owner fixes it in the web vault, then axe check d7 {customer}")
    return out


def checked(review: dict) -> list[str]:
    """What the review looked at, as its report says (never claim a check that did not run)."""
    names = {"health": "health from outside", "backup": "backups", "audit": "audit log", "vault_org": "vault organization"}
    return [text for key, text in names.items() if review.get(key) is not None]


def _days_between(earlier: str | None, later: str) -> float:
    from datetime import datetime
    if not earlier:
        return float("inf")
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(later) - parse(earlier)).total_seconds() / 86400


def d7(args) -> int:
    from datetime import datetime, timezone
    settings = Settings.load().with_customers_file(getattr(args, "customers_file", None))
    source = inventory.for_registered_customer(settings, args.customer)
    result = run_playbook(settings, "check_d7", source, check=True, extravars={"axe_target": args.customer},
                          label="check-d7", on_event=report.Progress(not args.json))
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    review = (result.stats.get(args.customer) or {}).get("d7")
    findings = d7_findings(args.customer, review, now) if review is not None else []
    if args.json:
        payload = report.as_json(result, {"mode": "check", "applied": False, "findings": findings})
        report.emit_json(payload)
    else:
        report.summary(result, f"axe check d7 {args.customer}: the D+7 review (reads only)",
                       lambda h, s: "" if review is None else f"{len(findings)} finding(s)" if findings else
                       "no finding in " + ", ".join(checked(review)))
        for f in findings:
            report.out.print(f"[yellow]{f['area']}[/yellow]: {f['problem']}\n  next: {f['next']}", soft_wrap=True)
    if result.failed or review is None:
        return 1
    return 1 if findings else 0


def register(sub) -> None:
    p = sub.add_parser("check", help="the runbook's reviews after D-day: d7 (health, backups, audit log, vault)")
    csub = p.add_subparsers(dest="check_command", required=True, metavar="REVIEW")
    d = csub.add_parser("d7", help="the D+7 review: health from outside, backups fresh and verified, frame's audit "
                                   "log active, the vault organization as planned; each finding with its next step")
    d.add_argument("customer")
    d.add_argument("--customers-file", help="customers.yaml to use (default: AXE_CUSTOMERS_FILE or ~/.axe/customers.yaml)")
    d.set_defaults(func=d7)
