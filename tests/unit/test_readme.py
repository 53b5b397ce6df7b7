"""The README stays true to the code."""

from silkqa.service.settings import settings_table
from tests.support.paths import ROOT


def test_readme_configuration_table_matches_the_settings():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme, "regenerate the table with `python -m silkqa.service.settings`"
