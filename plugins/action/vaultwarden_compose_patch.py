# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action behind axelabs.onboard.vaultwarden_compose_patch: read the file over the connection, plan the
patch on the controller (module_utils/vaultwarden_patch.py, with ruamel.yaml), write it back with the copy
module. The host needs nothing but Python's standard library."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

from ansible.plugins.action import ActionBase

from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError
from ansible_collections.axelabs.onboard.plugins.module_utils.vaultwarden_patch import plan

# path is a str here: type=path would expand "~" on the controller; it is the host's home that counts.
ARGS = dict(path=dict(type="str", required=True), public_domain=dict(type="str", required=True),
            service=dict(type="str", default="axe-vaultwarden"), backup=dict(type="bool", default=True))


class ActionModule(ActionBase):

    TRANSFERS_FILES = True
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGS)
        args["path"] = self._remote_expand_user(args["path"])
        read = self._execute_module("ansible.builtin.slurp", module_args={"src": args["path"]}, task_vars=task_vars)
        if read.get("failed"):
            result.update(failed=True, msg="cannot read %s on the host: %s\n  next: deploy the customer's vault first "
                                           "(axe deploy vault CUSTOMER --apply)" % (args["path"], read.get("msg")))
            return result
        text = base64.b64decode(read["content"]).decode("utf-8")
        try:
            planned = plan(text, args["public_domain"], args["service"])
        except ProductError as exc:
            result.update(failed=True, msg=str(exc), trap=exc.trap, next_step=exc.next_step)
            return result
        findings = [dict(key=k, now=now, wanted=want, trap=trap, action=action)
                    for k, now, want, trap, action in planned["findings"]]
        patched = [f["key"] for f in findings if f["action"] != "ok"]
        changed = planned["text"] != text
        result.update(changed=changed, findings=findings, patched=patched)
        # Only the managed keys' lines: the rest of the file carries the SSO client secret.
        before, after = text.split("\n"), planned["text"].split("\n")
        result["diff"] = dict(before_header=args["path"], after_header=args["path"],
                              before="".join("%s\n" % line.strip() for line in before if line not in after),
                              after="".join("%s\n" % line.strip() for line in after if line not in before))
        if changed and not self._task.check_mode:
            result.update(self._write(args, planned["text"], task_vars))
        return result

    def _write(self, args, text, task_vars):
        tmpdir = self._make_tmp_path()
        source = self._connection._shell.join_path(tmpdir, "docker-compose.yml")
        try:
            self._transfer_data(source, text)
            self._fixup_perms2((tmpdir, source))
            copied = self._execute_module("ansible.builtin.copy", task_vars=task_vars, module_args={
                "src": source, "dest": args["path"], "backup": args["backup"], "_original_basename": "docker-compose.yml"})
        finally:
            self._remove_tmp_path(tmpdir)
        if copied.get("failed"):
            return dict(failed=True, msg="writing %s failed: %s" % (args["path"], copied.get("msg")))
        return dict((k, copied[k]) for k in ("backup_file",) if k in copied)
