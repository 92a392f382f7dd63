"""Each entity's PII is sealed with two passphrases from the environment (.env.local, from the vault).
Without them the first PII operation raises, which is why registration refuses first (trap T16)."""
import os
import re


def env_names(entity_id):
    stem = re.sub(r"[^A-Z0-9]", "_", entity_id.upper())
    return ["PII_%s_PASSPHRASE_1" % stem, "PII_%s_PASSPHRASE_2" % stem]


def require(entity_id):
    missing = [n for n in env_names(entity_id) if not os.environ.get(n)]
    if missing:
        raise RuntimeError("PII passphrases for entity %s are not configured: %s" % (entity_id, ", ".join(missing)))
