from __future__ import annotations

import pytest

from slimline.dockerfile.pkgmgr import PackageOp, package_op
from slimline.dockerfile.shell import parse_script


def op(text: str) -> PackageOp:
    [cmd] = parse_script(text).commands
    result = package_op(cmd)
    assert result is not None
    return result


@pytest.mark.parametrize(
    ("text", "manager", "action", "packages"),
    [
        (
            "apt-get -y install --no-install-recommends curl ca-certificates",
            "apt",
            "install",
            ["curl", "ca-certificates"],
        ),
        ("apt-get -o Dpkg::Options::=--force-confdef install -y vim", "apt", "install", ["vim"]),
        (
            "apk add --no-cache --virtual .build-deps gcc musl-dev",
            "apk",
            "install",
            ["gcc", "musl-dev"],
        ),
        ("pip3 install --no-cache-dir -r requirements.txt flask", "pip", "install", ["flask"]),
        ("python3 -m pip install -U pip", "pip", "install", ["pip"]),
        ("uv pip install --system httpx", "pip", "install", ["httpx"]),
        ("npm ci --omit=dev", "npm", "ci", []),
        ("yarn install --frozen-lockfile --production", "yarn", "install", []),
        ("microdnf install -y --nodocs shadow-utils", "dnf", "install", ["shadow-utils"]),
        ("yum clean all", "dnf", "clean", ["all"]),
        ("zypper --non-interactive in -y curl", "zypper", "install", ["curl"]),
        ("gem install bundler --no-document", "gem", "install", ["bundler"]),
        ("conda install -y -c conda-forge numpy", "conda", "install", ["numpy"]),
        ("go mod download", "go", "mod-download", []),
    ],
)
def test_recognised(text: str, manager: str, action: str, packages: list[str]) -> None:
    result = op(text)
    assert (result.manager, result.action) == (manager, action)
    assert [w.text for w in result.packages] == packages


def test_options() -> None:
    result = op("apt-get install -qy --no-install-recommends -o APT::Install-Suggests=0 curl")
    assert result.has("-y") and result.has("--no-install-recommends")
    assert result.value("-o") == "APT::Install-Suggests=0"
    assert op("npm ci --omit=dev").value("--omit") == "dev"


def test_not_a_package_manager() -> None:
    [cmd] = parse_script("echo apt-get install curl").commands
    assert package_op(cmd) is None


def test_add_is_an_install_only_where_it_is_one() -> None:
    assert op("apk add curl").action == "install"
    assert op("yarn add left-pad").action == "install"
    assert op("apt add curl").action == "add"


def test_value_does_not_swallow_the_next_option() -> None:
    assert op("yarn install --production --frozen-lockfile").value("--production") is None


def test_composer_through_php() -> None:
    result = op("php composer.phar install --no-dev")
    assert (result.manager, result.action) == ("composer", "install") and result.has("--no-dev")
