"""customer IT at the Mac mini's keyboard: answering bw-bootstrap.sh's master password prompts over ssh -t."""
from __future__ import annotations

import pexpect


def answer_the_prompts(child, password, prompts):
    """Answer each master password prompt the helper asks for: the login's and the unlock's - and both again when
    the first unlock printed no key (T26: a login the CLI ended before it finished; the helper says so, logs out
    and asks for the login once more)."""
    asked = again = 0
    while True:
        # The helper's own line first: the login prompt redraws "Master password" as it is typed into, so waiting
        # for the prompt alone could answer the unlock before the login is done (seen with the machine busy).
        seen = child.expect(["Log in to ", "Unlock the vault ", "log in once more:", pexpect.EOF])
        if seen == 3:
            break
        if seen == 2:
            again += 1
            continue  # its own prompts follow, each after the helper's line
        child.expect("Master password")
        child.sendline(password)
        asked += 1
    child.close()
    assert asked - 2 * again == prompts and again <= 1, (asked, again, child.before)
