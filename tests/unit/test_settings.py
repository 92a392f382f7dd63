"""The operator's settings: environment over the settings file over documented defaults."""

import pytest

from axe.errors import AxeError
from axe.settings import CHECKOUT, Settings, read_config_file


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("AXE_STATE_DIR", "AXE_SSH_CONFIG", "AXE_KEEP_RUNS", "AXE_COLLECTION_DIR", "AXE_LAB_NAME", "AXE_STRATEGY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AXE_CONFIG", str(tmp_path / "config.env"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    return tmp_path


def test_defaults(clean_env):
    s = Settings.load()
    assert s.state_dir == clean_env / "xdg-state" / "axe"
    assert s.ssh_config is None
    assert s.keep_runs == 20
    assert s.collection_dir == CHECKOUT and (CHECKOUT / "galaxy.yml").is_file()


def test_settings_file_then_environment_wins(clean_env, monkeypatch):
    ssh_a, ssh_b = clean_env / "a", clean_env / "b"
    ssh_a.write_text(""), ssh_b.write_text("")
    (clean_env / "config.env").write_text(f"# comment\nAXE_SSH_CONFIG={ssh_a}\nAXE_KEEP_RUNS='5'\n")
    s = Settings.load()
    assert (s.ssh_config, s.keep_runs) == (ssh_a, 5)
    monkeypatch.setenv("AXE_SSH_CONFIG", str(ssh_b))
    assert Settings.load().ssh_config == ssh_b


def test_missing_ssh_config_names_the_fix(clean_env, monkeypatch):
    monkeypatch.setenv("AXE_SSH_CONFIG", str(clean_env / "nope"))
    with pytest.raises(AxeError) as err:
        Settings.load()
    assert "does not exist" in err.value.message and "axe lab up" in err.value.next_step


def test_bad_settings_line_names_file_and_line(tmp_path):
    path = tmp_path / "config.env"
    path.write_text("AXE_STATE_DIR=/x\nexport PATH=/evil\n")
    with pytest.raises(AxeError, match=r"config.env:2: expected NAME=value"):
        read_config_file(path)


def test_keep_runs_must_be_a_number(clean_env, monkeypatch):
    monkeypatch.setenv("AXE_KEEP_RUNS", "lots")
    with pytest.raises(AxeError, match="AXE_KEEP_RUNS"):
        Settings.load()


def test_mitogen_is_the_default_strategy_and_linear_turns_it_off(clean_env, monkeypatch):
    from axe.runner import ansible_env
    from axe.strategy import strategy_env
    env = ansible_env(Settings.load())
    assert env["ANSIBLE_STRATEGY"] == "mitogen_linear"
    from pathlib import Path
    assert (Path(env["ANSIBLE_STRATEGY_PLUGINS"]) / "mitogen_linear.py").is_file()
    monkeypatch.setenv("AXE_STRATEGY", "linear")
    assert ansible_env(Settings.load())["ANSIBLE_STRATEGY"] == "linear" == strategy_env("linear")["ANSIBLE_STRATEGY"]


def test_an_unknown_strategy_is_refused_naming_the_choices(clean_env, monkeypatch):
    monkeypatch.setenv("AXE_STRATEGY", "free")
    with pytest.raises(AxeError, match="AXE_STRATEGY='free' is not one of mitogen, linear") as exc:
        Settings.load()
    assert "AXE_STRATEGY=linear" in exc.value.next_step


def test_only_mitogens_own_deprecation_notice_is_kept_from_the_operator():
    from axe.strategy import strategy_noise
    assert strategy_noise("[DEPRECATION WARNING]: Use of strategy plugins not included in ansible.builtin are deprecated "
                          "and do not carry any backwards compatibility guarantees.")
    assert strategy_noise("[WARNING]: Deprecation warnings can be disabled by setting `deprecation_warnings=False` in ansible.cfg.")
    assert not strategy_noise("[DEPRECATION WARNING]: The 'foo' module is deprecated.")
    assert not strategy_noise("ERROR! the playbook could not be found")
