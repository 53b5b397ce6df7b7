"""The README stays true to the code."""

from service.settings import PROJECT_ROOT, settings_table


def test_readme_configuration_table_matches_the_settings():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme, "regenerate the table with `python -m service.settings`"
