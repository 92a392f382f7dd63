"""After a successful D-day: the Ship Log line and the reply to the customer's IT (runbook, "After D-day").

Both are built as pure values from what the run reported (tested without a run), then written: the
Ship Log by one appended line under a lock, the reply atomically. Neither ever holds a secret: they are
made from customers.yaml's public fields and the deploy reports, which carry names and versions only.
"""
from __future__ import annotations

import fcntl
import getpass
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

from . import later_days


def ship_log_line(customer: str, domain: str, deploys: dict, health: dict, run_id: str, when: datetime | None = None,
                  who: str | None = None) -> str:
    """One line: when, who, which customer, what is live where, and the proof (HTTP status per service)."""
    when = when or datetime.now(timezone.utc)
    who = who or f"{getpass.getuser()}@{socket.gethostname()}"
    live = []
    for service, d in deploys.items():  # in the D-day's order: each step published its report in turn
        if d.get("image"):  # an image's service (the vault) is its image; a built one, its ref and commit
            live.append(f"{service}={d['image']}")
        elif d:
            live.append(f"{service}={d.get('ref', '?')}@{str(d.get('commit', ''))[:12] or '?'}")
    proof = ",".join(f"{s}:{health[s]}" for s in sorted(health))
    return (f"{when.strftime('%Y-%m-%dT%H:%M:%SZ')} shipped {customer} https://{domain} {' '.join(live)} "
            f"health={proof} by={who} run={run_id}")


def append_line(path: Path, line: str) -> None:
    """Append one whole line (one write, O_APPEND, under an exclusive lock), creating the file when missing."""
    if "\n" in line:
        raise ValueError("a Ship Log entry is one line")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def reply_text(customer: str, entry: dict, health: dict, links: list[dict], when: datetime | None = None) -> str:
    """The reply to the customer's IT ("배포 완료, 접속 안내"): Korean first, then English. T15: the vault's
    email-first page hides SSO, so the direct link and the SSO identifier are spelled out."""
    when = when or datetime.now(timezone.utc)
    domain = entry["public_domain"]
    name = entry.get("legal_name") or customer
    base = f"https://{domain}"
    sso_link, identifier = f"{base}/vault/#/sso", customer.upper()
    checked = ", ".join(f"{s} {code}" for s, code in health.items())
    # Each service's link, as its role declares it (the catalogue's order): one line per language.
    ko = "\n".join(f"- {link['ko']}: {base}{link['path']}" for link in links)
    en = "\n".join(f"- {link['en']}: {base}{link['path']}" for link in links)
    day = when.strftime("%Y-%m-%d")
    later_ko, later_en = later_days.reply_sections(customer)
    return f"""# {name}: AXE Labs 배포 완료, 접속 안내 / Deployment complete, how to connect

안녕하세요, {name} IT 담당자님.

{day} AXE Labs 서비스 배포를 마쳤습니다. 아래 주소로 바로 접속하실 수 있습니다.

{ko}

## Vault SSO 로그인 (중요)
Vault 첫 화면은 이메일 입력 화면이라 SSO 로그인 버튼이 잘 보이지 않습니다. 직원분들께는 아래 직접 링크를 안내해 주세요.

- SSO 직접 링크: {sso_link}
- SSO 식별자 (organization identifier): {identifier}

회사 Microsoft Entra ID 계정으로 로그인하면 첫 로그인 때 Vault 계정이 만들어집니다.

## 다음 단계
1. 직원분들께 위 주소와 Vault SSO 직접 링크, 식별자 {identifier}를 공유해 주세요.
2. Claude에서 Frame MCP를 쓰실 때는 커넥터 주소로 {base}/frame/mcp 를 입력하고, 회사 계정으로 로그인하시면 됩니다.
3. 접속이 안 되거나 로그인 오류가 나면, 화면과 시각을 적어 이 메일에 회신해 주세요.

{later_ko}

배포 직후 외부 점검 결과 (HTTP): {checked}

감사합니다.
AXE Labs 드림

---

Hello {name} IT team,

We finished deploying the AXE Labs services on {day}. They are live at:

{en}

## Vault sign-in with SSO (important)
The vault's first page asks for an email address and hides the SSO option. Please give your staff the direct link:

- SSO direct link: {sso_link}
- SSO identifier (organization identifier): {identifier}

Signing in with a company Microsoft Entra ID account creates the vault account on first sign-in.

## Next steps
1. Share the addresses above, the vault's SSO direct link and the identifier {identifier} with your staff.
2. To use Frame MCP in Claude, add a connector with the address {base}/frame/mcp and sign in with a company account.
3. If something does not open or sign-in fails, reply to this email with a screenshot and the time it happened.

{later_en}

Checked from outside right after the deploy (HTTP): {checked}

Best regards,
AXE Labs
"""


def write_atomically(path: Path, text: str) -> bool:
    """Write `text` to `path` through a temporary file and a rename; False when it already holds exactly that."""
    from ansible_collections.axelabs.onboard.plugins.module_utils import atomic_file  # the collection's one write
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_file.write(str(path), text, 0o644)
    return True
