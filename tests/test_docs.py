"""The generated docs match the tables and the registry they come from."""

import re
from pathlib import Path

from translators.diagnostics import RULES
from translators.docs import diagnostics_page, render_readme

ROOT = Path(__file__).resolve().parent.parent


def test_readme_generated_sections_are_current():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert render_readme(readme) == readme, "run: python scripts/generate_docs.py"


def test_diagnostics_page_is_current():
    assert (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8") == diagnostics_page()


def test_every_registered_code_is_documented_once():
    page = diagnostics_page()
    for code in RULES:
        assert page.count(f"## {code}\n") == 1


def test_codes_are_stable_shape_and_fully_documented():
    for code, rule in RULES.items():
        assert re.fullmatch(r"BXM\d{3}", code)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
        for text in (rule.summary, rule.why, rule.emitted, rule.fix):
            assert text.strip(), f"{code} lacks documentation"


def test_readme_lists_every_twiml_verb_row():
    from translators.twiml.tables import VERBS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for verb in VERBS:
        assert f"| `<{verb.twiml}>` |" in readme
