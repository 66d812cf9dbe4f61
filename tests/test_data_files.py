"""The JSON copies of the data files are what slimline loads; the TOML files are what people
edit. They must say the same thing (regenerate with scripts/gen-data)."""

from slimline.dockerfile.base_images import load_data


def test_base_images_json_matches_toml() -> None:
    assert load_data("json") == load_data("toml"), "run scripts/gen-data"


def test_rules_doc_is_current() -> None:
    from pathlib import Path

    from slimline import api
    from slimline.rules_doc import rules_markdown

    path = Path(__file__).parent.parent / "docs" / "rules.md"
    assert path.read_text(encoding="utf-8") == rules_markdown(api.rules()), "run scripts/gen-docs"


def test_every_rule_is_documented() -> None:
    from slimline import api

    for info in api.rules().values():
        assert info.id.startswith("SL") and info.id[2:].isdigit()
        assert info.name and info.summary and len(info.doc.splitlines()) >= 3, info.id
        expected_digit = {
            "security": "0", "base-image": "1", "pinning": "2", "package-cache": "3",
            "install-scope": "4", "build-tools": "5", "layer-waste": "6", "data-storage": "7",
            "modular-design": "8", "attack-surface": "9",
        }[info.practice.value]  # fmt: skip
        assert info.id[2] == expected_digit, info.id
