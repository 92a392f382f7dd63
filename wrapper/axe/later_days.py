"""The runbook's days after D-day, as the D-day's plan and the reply to customer IT mention them: the operator sees the
whole onboarding, customer IT knows what comes and what is asked of them. One list, read by both (pure)."""
from __future__ import annotations


def operator_steps(customer: str) -> list[dict]:
    """[{day, what, command}]: what the operator runs after D-day, each command as it is typed."""
    org = customer.upper()
    return [
        {"day": "D+1", "what": "grant the customer's admin blueprint's admin role (they sign in once first)",
         "command": f"axe blueprint admin {customer} ADMIN_EMAIL --apply"},
        {"day": "D+1", "what": "an entity added later: customers.yaml, its PII passphrases, frame and hive",
         "command": f"axe entity add {customer} ENTITY --legal-name NAME --apply"},
        {"day": "D+1", "what": "prove last night's backup restores (scratch containers, never live data)",
         "command": f"axe backup verify {customer}"},
        {"day": "D+2", "what": f"the vault organization {org}: dual identity, collections v1, staff invites",
         "command": f"axe vault org {customer} --admin ADMIN_EMAIL --members STAFF_FILE --apply"},
        {"day": "D+7", "what": "the review: health, backups fresh and verified, frame's audit log, the vault as planned",
         "command": f"axe check d7 {customer}"},
    ]


def reply_sections(customer: str) -> tuple[str, str]:
    """The reply's "after D-day" section, in Korean and in English."""
    org = customer.upper()
    ko = f"""## 이후 일정 (D+1, D+2, D+7)
- D+1: 관리자분이 Blueprint에 회사 계정으로 한 번 로그인하시면 관리자 권한을 드립니다. 관리자 이메일을 알려 주세요.
  법인(entity)이 추가되면 알려 주세요. Frame과 Hive에 등록해 드립니다.
- D+2: Vault에 조직 {org}를 만들고 컬렉션(Platform, 법인별, Shared Tools)을 구성한 뒤 직원분들을 초대합니다.
  초대할 직원 이메일 목록을 한 줄에 하나씩 보내 주세요.
- D+7: 안정화 점검 - 외부 접속, 매일 밤 백업과 복원 확인, Frame 감사 기록, 직원분들의 첫 로그인에 빠진 것이 없는지."""
    en = f"""## The days after (D+1, D+2, D+7)
- D+1: once your admin has signed in to Blueprint with their company account, we grant them the admin role; please
  send us their email. Tell us about any new entity: we register it in Frame and Hive.
- D+2: we create the vault organization {org} with its collections (Platform, one per entity, Shared Tools) and invite
  your staff; please send the staff emails to invite, one per line.
- D+7: a stability review - access from outside, the nightly backups and a test restore, Frame's audit log, and that
  your staff's first sign-ins had nothing missing."""
    return ko, en
