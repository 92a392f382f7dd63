"""Planning a DNS change is pure: which records a CNAME conflicts with, and who owns them (T02, T03)."""
from ansible_collections.axelabs.onboard.plugins.module_utils.cloudflare import (
    OWNER_COMMENT, describe, owner_mark, plan_dns, tunnel_target)

NAME = "acme.axelabs.ai"
TARGET = tunnel_target("6ff42ae2-765d-4adf-8112-31c55c1551ef")
OURS = owner_mark("acme")
LEGACY = OWNER_COMMENT + " for acme.axelabs.ai"  # the mark before it named the customer
CUSTOMER = "acme"


def rec(rid, rtype, content, comment=None, proxied=True):
    return {"id": rid, "type": rtype, "name": NAME, "content": content, "comment": comment, "proxied": proxied}


def test_nothing_there_creates():
    assert plan_dns([], NAME, TARGET, CUSTOMER, False) == ([("create", None)], [])


def test_txt_and_mx_coexist_and_are_never_touched():
    txt, mx = rec("t", "TXT", "ms=verify"), rec("m", "MX", "mail.example")
    actions, blocking = plan_dns([txt, mx], NAME, TARGET, CUSTOMER, False)
    assert actions == [("create", None)] and blocking == []


def test_ours_and_right_is_a_no_op():
    assert plan_dns([rec("c", "CNAME", TARGET, OURS)], NAME, TARGET, CUSTOMER, False) == ([], [])


def test_ours_pointing_at_an_old_tunnel_is_updated():
    old = rec("c", "CNAME", tunnel_target("old"), OURS)
    assert plan_dns([old], NAME, TARGET, CUSTOMER, False) == ([("update", old)], [])


def test_right_target_without_our_mark_is_adopted():
    found = rec("c", "CNAME", TARGET)
    assert plan_dns([found], NAME, TARGET, CUSTOMER, False) == ([("update", found)], [])


def test_a_stale_a_record_blocks_unless_replacing():
    stale = rec("a", "A", "192.0.2.10")
    assert plan_dns([stale], NAME, TARGET, CUSTOMER, False) == ([], [stale])
    assert plan_dns([stale], NAME, TARGET, CUSTOMER, True) == ([("delete", stale), ("create", None)], [])


def test_replacing_keeps_the_txt_and_deletes_before_writing():
    stale, txt = rec("a", "AAAA", "2001:db8::1"), rec("t", "TXT", "v=spf1")
    ours = rec("c", "CNAME", tunnel_target("old"), OURS)
    actions, blocking = plan_dns([stale, txt, ours], NAME, TARGET, CUSTOMER, True)
    assert actions == [("delete", stale), ("update", ours)] and blocking == []


def test_the_older_mark_is_ours_and_is_re_marked_for_the_customer():
    old = rec("c", "CNAME", TARGET, LEGACY)
    assert plan_dns([old], NAME, TARGET, CUSTOMER, False) == ([("update", old)], [])


def test_a_record_marked_for_another_customer_is_foreign():
    theirs = rec("c", "CNAME", tunnel_target("beta-tunnel"), owner_mark("beta"))
    assert plan_dns([theirs], NAME, TARGET, CUSTOMER, False) == ([], [theirs])
    assert "axe's for customer beta" in describe(theirs)
    # Even pointing at this customer's tunnel, another customer's record is not taken silently.
    same_target = rec("c", "CNAME", TARGET, owner_mark("beta"))
    assert plan_dns([same_target], NAME, TARGET, CUSTOMER, False) == ([], [same_target])
    assert plan_dns([theirs], NAME, TARGET, CUSTOMER, True) == ([("delete", theirs), ("create", None)], [])
