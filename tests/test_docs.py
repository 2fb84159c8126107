"""The docs hold what a newcomer needs: every setting, every command and every stage kind is
documented, and every link between the docs leads somewhere."""
import re
from pathlib import Path

import pytest

import config

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_settings_table():
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", OPERATIONS, re.M))
    assert documented == {s.name for s in config.SETTINGS}


def commands(group, prefix=()):
    """Yield every command path of a click group: ("translate", "update"), ..."""
    for name in group.list_commands(None):
        command = group.get_command(None, name)
        yield (*prefix, name)
        if hasattr(command, "list_commands") and name != "db":  # `db` is Flask-Migrate's, documented there
            yield from commands(command, (*prefix, name))


def test_every_command_is_documented(app):
    found = list(commands(app.cli))
    assert ("translate", "check") in found and ("create-facilitator",) in found
    missing = [" ".join(path) for path in found if f"flask --app wsgi {' '.join(path)}" not in OPERATIONS]
    assert missing == []


@pytest.mark.parametrize("key", sorted(__import__("workshop.stages", fromlist=["KINDS"]).KINDS))
def test_every_stage_kind_has_its_page(key):
    from workshop.stages import KINDS
    page = ROOT / "workshop" / "stages" / key / "README.md"
    assert page.exists(), f"{key} has no README.md in its folder"
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# {KINDS[key].label}\n")
    for heading in ("## On the phones", "## On the projector", "## On the console", "## In the report"):
        assert heading in text, (key, heading)


def test_every_link_in_the_docs_leads_to_a_file():
    pages = [ROOT / "README.md", ROOT / "SECURITY.md", *(ROOT / "docs").glob("*.md"),
             *(ROOT / "workshop" / "stages").glob("*/README.md")]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)[^)]*\)|src=\"([^\"]+)\"", page.read_text(encoding="utf-8")):
            link = next(t for t in target if t)
            if "://" in link or link.startswith("mailto:"):
                continue
            if not (page.parent / link).exists():
                broken.append(f"{page.relative_to(ROOT)}: {link}")
    assert broken == []
