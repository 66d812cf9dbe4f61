"""os-release: where it lives, how links to it are followed, how its values are quoted."""

from __future__ import annotations

from slimline.packages.base import OSRelease
from slimline.packages.os_release import parse_os_release, read_os_release, wants

from .helpers import DEBIAN_OS_RELEASE, debian_base, files_from, image_files

DEBIAN = OSRelease(
    id="debian",
    version_id="12",
    version_codename="bookworm",
    pretty_name="Debian GNU/Linux 12 (bookworm)",
)


def test_relative_link_into_usr_lib() -> None:
    assert read_os_release(image_files(debian_base())) == DEBIAN


def test_absolute_link() -> None:
    files = image_files(
        [
            ("file", "usr/lib/os-release", DEBIAN_OS_RELEASE),
            ("symlink", "etc/os-release", "/usr/lib/os-release"),
        ]
    )
    assert read_os_release(files) == DEBIAN


def test_usr_lib_when_etc_is_missing_or_dangling() -> None:
    assert read_os_release(files_from({"usr/lib/os-release": DEBIAN_OS_RELEASE})) == DEBIAN
    files = image_files(
        [
            ("file", "usr/lib/os-release", DEBIAN_OS_RELEASE),
            ("symlink", "etc/os-release", "../nowhere"),
        ]
    )
    assert read_os_release(files) == DEBIAN


def test_etc_wins_over_usr_lib() -> None:
    files = files_from(
        {
            "etc/os-release": b"ID=ubuntu\nVERSION_ID=22.04\n",
            "usr/lib/os-release": DEBIAN_OS_RELEASE,
        }
    )
    release = read_os_release(files)
    assert release is not None and (release.id, release.version_id) == ("ubuntu", "22.04")


def test_no_os_release() -> None:
    assert read_os_release(files_from({"etc/hostname": b"x"})) is None
    assert read_os_release(files_from({"etc/os-release": b"\n# nothing\n"})) is None


def test_quoting_and_id_like() -> None:
    fields = parse_os_release(
        'ID="rhel"\nID_LIKE="fedora centos"\nNAME=\'Red Hat\'\n'
        'PRETTY_NAME="say \\"hi\\" \\\\ \\$HOME"\n  # comment\nbroken line\n=x\nA-B=c\n'
    )
    assert fields == {
        "ID": "rhel",
        "ID_LIKE": "fedora centos",
        "NAME": "Red Hat",
        "PRETTY_NAME": 'say "hi" \\ $HOME',
    }
    files = files_from({"etc/os-release": b'ID=Rocky\nID_LIKE="RHEL centos fedora"\n'})
    release = read_os_release(files)
    assert release is not None
    assert (release.id, release.id_like) == ("rocky", ("rhel", "centos", "fedora"))


def test_undecodable_bytes() -> None:
    release = read_os_release(files_from({"etc/os-release": b"ID=deb\xffian\nVERSION_ID=12\n"}))
    assert release is not None and release.version_id == "12"


def test_wants() -> None:
    assert wants("etc/os-release") and wants("usr/lib/os-release")
    assert not wants("etc/os-release.bak") and not wants("usr/lib/os-release.d/x")
