from __future__ import annotations

from pathlib import Path

from slimline.discovery import discover_files, is_dockerfile_name


def test_names() -> None:
    for name in [
        "Dockerfile",
        "dockerfile",
        "Dockerfile.prod",
        "api.Dockerfile",
        "Containerfile",
        "x.containerfile",
    ]:
        assert is_dockerfile_name(name), name
    for name in [
        "Dockerfile.md",
        ".dockerignore",
        "Dockerfile.dockerignore",
        "docker-compose.yml",
        "Makefile",
    ]:
        assert not is_dockerfile_name(name), name


def test_walk_honours_gitignore_and_excludes(tmp_path: Path) -> None:
    for rel in [
        "Dockerfile",
        "a/Dockerfile.dev",
        "a/b/x.Dockerfile",
        "vendor/Dockerfile",
        "node_modules/m/Dockerfile",
        "a/gen/Dockerfile",
    ]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("FROM a\n")
    (tmp_path / "a" / ".gitignore").write_text("gen/\n")
    found = [
        Path(p).relative_to(tmp_path).as_posix() for p in discover_files(tmp_path, ["vendor/"])
    ]
    assert found == ["Dockerfile", "a/Dockerfile.dev", "a/b/x.Dockerfile"]
