from __future__ import annotations

from pathlib import Path

import pytest

from slimline.config import Config, ConfigError, discover, load_file
from slimline.findings import Practice, Severity


def test_pyproject_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.slimline]\nselect = ["SL3", "security"]\nignore = ["SL301"]\nseverity = "info"\n'
        'fail-on = "error"\ntarget = "runtime"\n[tool.slimline.options]\npin_digests = true\n'
    )
    (tmp_path / "sub").mkdir()
    config = discover(tmp_path / "sub")
    assert config.select == ("SL3", "security") and config.fail_on is Severity.ERROR
    assert config.options == {"pin-digests": True} and config.target == "runtime"
    assert config.enabled("SL302", Practice.PACKAGE_CACHE, True)
    assert not config.enabled("SL301", Practice.PACKAGE_CACHE, True)
    assert config.enabled("SL001", Practice.SECURITY, True)
    assert not config.enabled("SL101", Practice.BASE_IMAGE, True)


def test_dotfile_wins_and_defaults(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    assert discover(tmp_path) == Config()
    (tmp_path / ".slimline.toml").write_text('ignore = ["SL1"]\n')
    assert discover(tmp_path).ignore == ("SL1",)


def test_opt_in_rules_need_select() -> None:
    assert not Config().enabled("SL203", Practice.PINNING, False)
    assert Config(select=("SL203",)).enabled("SL203", Practice.PINNING, False)


@pytest.mark.parametrize(
    "content",
    ['select = "SL1"\nfoo = 1\n', 'severity = "loud"\n', "select = [1]\n", "not toml = = =\n"],
)
def test_bad_config(tmp_path: Path, content: str) -> None:
    path = tmp_path / ".slimline.toml"
    path.write_text(content)
    with pytest.raises(ConfigError):
        load_file(path)
