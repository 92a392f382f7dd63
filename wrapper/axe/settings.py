"""The operator's settings: environment first, then the settings file, then documented defaults.

| setting          | environment        | default                                   |
|------------------|--------------------|-------------------------------------------|
| state directory  | AXE_STATE_DIR      | $XDG_STATE_HOME/axe (~/.local/state/axe)  |
| settings file    | AXE_CONFIG         | $XDG_CONFIG_HOME/axe/config.env           |
| SSH config       | AXE_SSH_CONFIG     | none: ssh's own (~/.ssh/config)           |
| runs kept        | AXE_KEEP_RUNS      | 20                                        |
| collection       | AXE_COLLECTION_DIR | this checkout, else the installed one     |
| customers file   | AXE_CUSTOMERS_FILE | ~/.axe/customers.yaml                     |
| vault backend    | AXE_VAULT_BACKEND  | bw_serve (or secrets_manager)             |
| vault URL        | AXE_VAULT_URL      | http://127.0.0.1:8087 (`bw serve`)        |
| vault org        | AXE_VAULT_ORGANIZATION | AXE Labs                              |
| Bitwarden CLI    | AXE_BW             | bw                                        |
| Keychain tool    | AXE_SECURITY       | security                                  |
| Tailscale CLI    | AXE_TAILSCALE      | tailscale                                 |
| Cloudflare API   | CLOUDFLARE_BASE_URL | the SDK's default (Cloudflare's API)     |
| Cloudflare zone  | AXE_CLOUDFLARE_ZONE | axelabs.ai                               |
| edge             | AXE_EDGE_URL       | none: https://{public_domain} itself; else requests for it go here, with its Host header |
| service repos    | AXE_REPO_BASE      | git@github.com:axelabs (as the customer host reaches them) |
| Vaultwarden image| AXE_VAULT_IMAGE    | docker.io/vaultwarden/server:1.36.0 (the customer's vault, D-ops-28) |
| Ship Log         | AXE_SHIP_LOG       | $AXE_STATE_DIR/ship-log.txt (one line per shipped D-day) |
| strategy         | AXE_STRATEGY       | mitogen (Mitogen's linear strategy); `linear` is Ansible's own |
| Secrets Manager  | AXE_SM_API_URL, AXE_SM_IDENTITY_URL, AXE_SM_ORGANIZATION_ID, AXE_SM_CA_FILE | Bitwarden's URLs; the token from BWS_ACCESS_TOKEN or the Keychain |

The settings file holds `NAME=value` lines with the same names (`axe lab up` writes one that
points at the lab when the operator has none).
"""
from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from .errors import AxeError

CHECKOUT = Path(__file__).resolve().parents[2]
# How ansible-playbook runs a play's tasks on the hosts (wrapper/axe/strategy.py).
STRATEGIES = ("mitogen", "linear")


def _xdg(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var) or os.path.expanduser(fallback))


def config_path() -> Path:
    if os.environ.get("AXE_CONFIG"):
        return Path(os.environ["AXE_CONFIG"]).expanduser()
    return _xdg("XDG_CONFIG_HOME", "~/.config") / "axe" / "config.env"


def is_setting(name: str) -> bool:
    return name.startswith("AXE_") or name == "CLOUDFLARE_BASE_URL"


def read_config_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    values = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, raw = line.partition("=")
        if not sep or not is_setting(name.strip()):
            raise AxeError(f"{path}:{number}: expected NAME=value with a name starting AXE_ (or CLOUDFLARE_BASE_URL), "
                           f"got {line!r}",
                           f"fix or remove {path}")
        parts = shlex.split(raw)
        values[name.strip()] = parts[0] if parts else ""
    return values


@dataclass(frozen=True)
class Settings:
    state_dir: Path
    ssh_config: Path | None
    keep_runs: int
    collection_dir: Path | None
    customers_file: Path = Path("~/.axe/customers.yaml").expanduser()
    vault_backend: str = "bw_serve"
    vault_url: str = "http://127.0.0.1:8087"
    vault_organization: str = "AXE Labs"
    bw: str = "bw"
    security: str = "security"
    tailscale: str = "tailscale"
    cloudflare_base_url: str = ""
    cloudflare_zone: str = "axelabs.ai"
    edge_url: str = ""
    repo_base: str = "git@github.com:axelabs"
    vault_image: str = "docker.io/vaultwarden/server:1.36.0"
    ship_log: Path | None = None
    sm_api_url: str = ""
    sm_identity_url: str = ""
    sm_organization_id: str = ""
    sm_ca_file: str = ""
    strategy: str = "mitogen"

    @classmethod
    def load(cls) -> "Settings":
        values = {**read_config_file(config_path()), **{k: v for k, v in os.environ.items() if is_setting(k)}}
        state_dir = Path(values["AXE_STATE_DIR"]).expanduser() if values.get("AXE_STATE_DIR") \
            else cls.default_state_dir()
        ssh_config = Path(values["AXE_SSH_CONFIG"]).expanduser() if values.get("AXE_SSH_CONFIG") else None
        if ssh_config and not ssh_config.is_file():
            raise AxeError(f"AXE_SSH_CONFIG points at {ssh_config}, which does not exist",
                           "set AXE_SSH_CONFIG to your SSH config, or run `axe lab up` for the lab")
        try:
            keep = int(values.get("AXE_KEEP_RUNS", "20"))
        except ValueError:
            raise AxeError(f"AXE_KEEP_RUNS={values['AXE_KEEP_RUNS']!r} is not a number", "set it to e.g. 20")
        strategy = values.get("AXE_STRATEGY") or "mitogen"
        if strategy not in STRATEGIES:
            raise AxeError(f"AXE_STRATEGY={strategy!r} is not one of {', '.join(STRATEGIES)}",
                           "unset AXE_STRATEGY (Mitogen, the default) or set AXE_STRATEGY=linear (Ansible's own)")
        return cls(state_dir=state_dir, strategy=strategy, ssh_config=ssh_config, keep_runs=max(1, keep),
                   collection_dir=cls._collection_dir(values),
                   customers_file=Path(values.get("AXE_CUSTOMERS_FILE") or "~/.axe/customers.yaml").expanduser(),
                   vault_backend=values.get("AXE_VAULT_BACKEND") or "bw_serve",
                   vault_url=values.get("AXE_VAULT_URL") or "http://127.0.0.1:8087",
                   vault_organization=values.get("AXE_VAULT_ORGANIZATION") or "AXE Labs",
                   bw=values.get("AXE_BW") or "bw", security=values.get("AXE_SECURITY") or "security",
                   tailscale=values.get("AXE_TAILSCALE") or "tailscale",
                   cloudflare_base_url=values.get("CLOUDFLARE_BASE_URL") or "",
                   cloudflare_zone=values.get("AXE_CLOUDFLARE_ZONE") or "axelabs.ai",
                   edge_url=values.get("AXE_EDGE_URL") or "",
                   repo_base=values.get("AXE_REPO_BASE") or "git@github.com:axelabs",
                   vault_image=values.get("AXE_VAULT_IMAGE") or "docker.io/vaultwarden/server:1.36.0",
                   ship_log=Path(values["AXE_SHIP_LOG"]).expanduser() if values.get("AXE_SHIP_LOG") else None,
                   sm_api_url=values.get("AXE_SM_API_URL") or "", sm_identity_url=values.get("AXE_SM_IDENTITY_URL") or "",
                   sm_organization_id=values.get("AXE_SM_ORGANIZATION_ID") or "",
                   sm_ca_file=values.get("AXE_SM_CA_FILE") or "")

    def with_customers_file(self, path: str | None) -> "Settings":
        import dataclasses
        return dataclasses.replace(self, customers_file=Path(path).expanduser()) if path else self

    def product_env(self) -> dict[str, str]:
        """The non-secret settings the collection's plugins read from the environment."""
        return {"AXE_CUSTOMERS_FILE": str(self.customers_file), "AXE_VAULT_BACKEND": self.vault_backend,
                "AXE_VAULT_URL": self.vault_url, "AXE_VAULT_ORGANIZATION": self.vault_organization,
                "AXE_TAILSCALE": self.tailscale, "AXE_CLOUDFLARE_ZONE": self.cloudflare_zone,
                "AXE_REPO_BASE": self.repo_base, "AXE_VAULT_IMAGE": self.vault_image,
                **({"CLOUDFLARE_BASE_URL": self.cloudflare_base_url} if self.cloudflare_base_url else {}),
                **({"AXE_EDGE_URL": self.edge_url} if self.edge_url else {}),
                **({"AXE_SSH_CONFIG": str(self.ssh_config)} if self.ssh_config else {}),
                **self.secrets_manager_env()}

    def secrets_manager_env(self) -> dict[str, str]:
        """What the secrets_manager backend reads (module_utils/vault_sm.py); the access token is not among
        them: it stays in BWS_ACCESS_TOKEN or the Keychain."""
        values = {"AXE_SM_API_URL": self.sm_api_url, "AXE_SM_IDENTITY_URL": self.sm_identity_url,
                  "AXE_SM_ORGANIZATION_ID": self.sm_organization_id, "AXE_SM_CA_FILE": self.sm_ca_file,
                  "AXE_SECURITY": self.security}
        out = {k: v for k, v in values.items() if v}
        if self.vault_backend == "secrets_manager":
            out["AXE_SM_STATE_FILE"] = str(self.state_dir / "secrets-manager.state")
        return out

    @staticmethod
    def default_state_dir() -> Path:
        return _xdg("XDG_STATE_HOME", "~/.local/state") / "axe"

    @staticmethod
    def _collection_dir(values: dict[str, str]) -> Path | None:
        """The collection's root when running from a checkout; None means 'installed'."""
        if values.get("AXE_COLLECTION_DIR"):
            return Path(values["AXE_COLLECTION_DIR"]).expanduser()
        if (CHECKOUT / "galaxy.yml").is_file():
            return CHECKOUT
        return None

    @property
    def runs_dir(self) -> Path:
        return self.state_dir / "runs"
