"""The JSON copies of the data files are what slimline loads; the TOML files are what people
edit. They must say the same thing (regenerate with scripts/gen-data)."""

from slimline.dockerfile.base_images import load_data


def test_base_images_json_matches_toml() -> None:
    assert load_data("json") == load_data("toml"), "run scripts/gen-data"
