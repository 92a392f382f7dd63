"""D+2's vault organization planned without a host (plugins/module_utils/vaultwarden_org.py): the wanted collections
from the entity list, the members file, and the steps from what the organization holds to what D+2 wants."""
from __future__ import annotations

import json

import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils import vaultwarden_org as vo
from ansible_collections.axelabs.onboard.plugins.module_utils import vaultwarden_org_client as client
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError

KR = '(주)"보르그" 코리아'
AI, ADMIN = "ai@vorg.co.kr", "it-admin@vorg.co.kr"
NAMES = ["Platform — Service Secrets", "Platform — Infrastructure", KR, "Shared Tools"]


def test_names_and_the_structure_v1_in_order():
    assert vo.organization_name("acme") == "ACME"
    assert vo.automation_email(" Vorg.CO.kr ") == AI
    wanted = vo.wanted_collections([{"id": "vorg-kr", "legal_name": KR}])
    assert [(w["name"], w["staff"]) for w in wanted] == [(NAMES[0], False), (NAMES[1], False), (KR, True),
                                                         ("Shared Tools", True)]


def test_entities_sharing_a_legal_name_share_a_collection_and_fixed_names_are_refused():
    two = vo.wanted_collections([{"id": "a", "legal_name": "ACME"}, {"id": "b", "legal_name": "ACME"},
                                 {"id": "c", "legal_name": "ACME US"}])
    assert [w["name"] for w in two] == NAMES[:2] + ["ACME", "ACME US", "Shared Tools"]
    for bad in ("Shared Tools", NAMES[0], "  "):
        with pytest.raises(ProductError):
            vo.wanted_collections([{"id": "x", "legal_name": bad}])


def test_members_file_comments_blank_lines_duplicates_and_bad_lines_by_number():
    text = "# staff\nKim@Vorg.co.kr\n\nlee@vorg.co.kr   # accounting\nkim@vorg.co.kr\n"
    assert vo.parse_members(text) == ["kim@vorg.co.kr", "lee@vorg.co.kr"]
    assert vo.parse_members("") == []
    with pytest.raises(ProductError) as exc:
        vo.parse_members("a@b.co\nnot an email\n\nx@y.co, z@y.co\n@nope.co\n", "staff.txt")
    assert exc.value.details == ["line 2: 'not an email' is not an email address",
                                 "line 4: 'x@y.co, z@y.co' is not an email address",
                                 "line 5: '@nope.co' is not an email address"]
    assert "staff.txt has 3 lines" in exc.value.message


def member(mid, email, mtype, status=2):
    return {"id": mid, "email": email, "type": mtype, "status": status}


def test_a_new_organization_plans_everything():
    wanted = vo.wanted_collections([{"id": "vorg-kr", "legal_name": KR}])
    steps = vo.plan(wanted, [], [], ADMIN, AI, ["kim@vorg.co.kr"], org_exists=False)
    assert [c["name"] for c in steps["create_collections"]] == NAMES
    assert steps["invite_admin"] == ADMIN and steps["invite_staff"] == ["kim@vorg.co.kr"]
    assert steps["access"] == [] and steps["confirm"] == [] and steps["findings"] == []
    assert vo.changes(False, steps)
    assert vo.describe("VORG", False, steps, ADMIN)[0] == "create organization VORG (identifier VORG), Owner: the automation identity"


def full_org(users):
    return [{"id": "c%d" % i, "name": n, "users": users if i >= 2 else []} for i, n in enumerate(NAMES)]


def test_as_wanted_is_no_change():
    wanted = vo.wanted_collections([{"id": "vorg-kr", "legal_name": KR}])
    rw = [{"id": "m3", "readOnly": False, "hidePasswords": False, "manage": False}]
    members = [member("m1", AI, 0), member("m2", ADMIN, 0), member("m3", "kim@vorg.co.kr", 2, 0)]
    steps = vo.plan(wanted, full_org(rw), members, ADMIN, AI, ["kim@vorg.co.kr"])
    assert not vo.changes(True, steps) and vo.describe("VORG", True, steps, ADMIN) == []
    # Without the file and the admin (a later run): the same.
    assert not vo.changes(True, vo.plan(wanted, full_org(rw), members, None, AI, []))


def test_a_new_entity_gets_its_collection_and_staff_missing_access_are_given_it():
    wanted = vo.wanted_collections([{"id": "vorg-kr", "legal_name": KR}, {"id": "vorg-us", "legal_name": "Vorg US"}])
    ro = [{"id": "m3", "readOnly": True, "hidePasswords": False, "manage": False}]
    members = [member("m1", AI, 0), member("m3", "kim@vorg.co.kr", 2), member("m4", "lee@vorg.co.kr", 2, 1)]
    cols = full_org(ro)
    cols[0]["users"] = [{"id": "m4", "readOnly": False, "hidePasswords": False, "manage": False}]  # staff in Platform
    steps = vo.plan(wanted, cols, members, None, AI, [])
    assert steps["create_collections"] == [{"name": "Vorg US", "staff": True}]
    by_name = {a["name"]: a for a in steps["access"]}
    assert by_name[NAMES[0]]["revoke"] == ["lee@vorg.co.kr"] and by_name[NAMES[0]]["users"] == []
    assert by_name[KR]["grant"] == ["kim@vorg.co.kr", "lee@vorg.co.kr"]
    assert sorted((u["id"], u["readOnly"]) for u in by_name[KR]["users"]) == [("m3", False), ("m4", False)]
    assert steps["confirm"] == [{"id": "m4", "email": "lee@vorg.co.kr"}]  # accepted staff get confirmed
    assert steps["invite_admin"] is None and steps["invite_staff"] == []


def test_identities_that_are_not_owner_are_findings_not_changes():
    wanted = vo.wanted_collections([{"id": "vorg-kr", "legal_name": KR}])
    members = [member("m1", AI, 2), member("m2", ADMIN, 1), member("m3", "boss@vorg.co.kr", 3)]
    steps = vo.plan(wanted, full_org([]), members, ADMIN, AI, ["boss@vorg.co.kr"])
    assert len(steps["findings"]) == 3 and steps["invite_staff"] == [] and steps["invite_admin"] is None
    assert "not Owner" in steps["findings"][0] and "left as it is" in steps["findings"][2]
    assert vo.plan(wanted, [], [], None, AI, [])["findings"] == ["ai@vorg.co.kr (the automation identity) is not a "
                                                                 "member of the organization"]


def test_the_cli_data_file_gives_the_server_and_the_token(tmp_path):
    token = "eyJh.eyJz.sig"
    data = {"user_u1_token_accessToken": token,
            "global_environment_environment": {"urls": {"base": "https://127.0.0.1:18443/vault/", "api": None}}}
    assert client.cli_credentials(data, "u1") == ("https://127.0.0.1:18443/vault/api", token)
    data["user_u1_environment_environment"] = {"urls": {"base": "https://x", "api": "https://api.x/"}}
    assert client.cli_credentials(data, "u1") == ("https://api.x", token)
    with pytest.raises(ProductError) as exc:
        client.cli_credentials({"user_u1_token_accessToken": {"encrypted": True}}, "u1")
    assert "web vault" in exc.value.next_step
    assert client.appdata_dir({"BITWARDENCLI_APPDATA_DIR": "/x"}, str(tmp_path)) == "/x"
    assert client.appdata_dir({}, str(tmp_path)) == str(tmp_path / ".config" / "Bitwarden CLI")
    (tmp_path / "Library" / "Application Support" / "Bitwarden CLI").mkdir(parents=True)
    assert client.appdata_dir({}, str(tmp_path)).endswith("Library/Application Support/Bitwarden CLI")
    assert json.dumps(client.NODE_NEW_ORG)  # the node script is plain text, no secret in it


def test_the_organization_key_is_shared_and_used_as_bitwarden_clients_do():
    """The node script's output opens with the account's private key (RSA-OAEP SHA-1, EncString type 4) and the
    organization key then decrypts the first collection's name and the organization's private key (type 2)."""
    import base64
    import shutil
    import subprocess

    from axe_lab.sm_crypto import decrypt
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    node = shutil.which("node")
    if not node:
        pytest.skip("no node on this machine")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = base64.b64encode(private.public_key().public_bytes(serialization.Encoding.DER,
                                                                serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    run = subprocess.run([node, "-e", client.NODE_NEW_ORG], input=json.dumps({"publicKey": public, "collectionName": KR}),
                         capture_output=True, text=True, timeout=60, check=True)
    made = json.loads(run.stdout)
    kind, _, sealed = made["key"].partition(".")
    assert kind == "4"
    org_key = private.decrypt(base64.b64decode(sealed), padding.OAEP(mgf=padding.MGF1(hashes.SHA1()),
                                                                     algorithm=hashes.SHA1(), label=None))
    assert len(org_key) == 64
    assert decrypt(org_key, made["collectionName"]).decode() == KR
    org_private = serialization.load_der_private_key(decrypt(org_key, made["keys"]["encryptedPrivateKey"]), None)
    assert base64.b64encode(org_private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode() == made["keys"]["publicKey"]
    assert base64.b64encode(org_key).decode() not in run.stdout


class ScriptedCli:
    """What `bw` answers, in order, per command (below OrgClient's own logic: AnsibleModule.run_command's place).
    An empty answer with exit 0 is the CLI's hiccup seen with 2025.7.0 on a busy machine."""

    def __init__(self, answers):
        self.answers, self.calls = {k: list(v) for k, v in answers.items()}, []

    def __call__(self, argv, environ_update=None, data=None, binary_data=False):
        key = " ".join(argv[1:3])
        self.calls.append(key)
        return 0, self.answers[key].pop(0), ""


def org_client(cli):
    return client.OrgClient(cli, "bw", "session", "acme")


def test_a_listing_the_cli_ended_without_is_asked_again_never_read_as_empty():
    cli = ScriptedCli({"list organizations": ["", "", '[{"id": "o1", "name": "ACME"}]']})
    assert org_client(cli).organizations() == [{"id": "o1", "name": "ACME"}]
    assert cli.calls == ["list organizations"] * 3


def test_a_cli_that_never_answers_is_an_error_naming_the_command():
    cli = ScriptedCli({"list organizations": [""] * client.HICCUP_TRIES, "sync": ["", "", ""]})
    with pytest.raises(ProductError, match="bw list organizations exited 0 without its answer 3 times"):
        org_client(cli).organizations()
    with pytest.raises(ProductError, match="bw sync exited 0 without its answer"):
        org_client(cli).sync()


def test_a_create_that_printed_nothing_is_looked_for_before_it_is_made_again():
    made = json.dumps([{"id": "c1", "name": "Shared Tools"}])
    cli = ScriptedCli({"create org-collection": [""], "list org-collections": [made]})
    assert org_client(cli).create_collection("o1", "Shared Tools", []) == "c1"
    assert cli.calls == ["create org-collection", "list org-collections"]  # found: not made twice
    cli = ScriptedCli({"create org-collection": ["", '{"id": "c2"}'], "list org-collections": ["[]"]})
    assert org_client(cli).create_collection("o1", "Shared Tools", []) == "c2"
    assert cli.calls == ["create org-collection", "list org-collections", "create org-collection"]
