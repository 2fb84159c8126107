"""The message catalogues: extract, update, compile and check them (`flask translate ...`).

Catalogues live in workshop/translations/<lang>/LC_MESSAGES/messages.po; the
compiled .mo files are committed next to them, so a fresh clone runs without a
build step (a test fails when a .mo is older than its .po). English is the
source language and has no catalogue.
"""
from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from .i18n import DEFAULT, LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
BABEL_CFG = ROOT / "babel.cfg"
# Every function that marks a string, in Python and in templates (pybabel's defaults plus ours).
KEYWORDS = ["_l", "lazy_gettext", "lazy_ngettext:1,2", "lazy_pgettext:1c,2"]
PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[-#0 +]*\d*(?:\.\d+)?[sdifr%]|%%|\{[A-Za-z_]\w*\}")


def languages() -> list[str]:
    """Return the languages that have a catalogue (every language but the source's)."""
    return [code for code in LANGUAGES if code != DEFAULT]


def _pybabel(*args: str) -> None:
    """Run one pybabel command in this process."""
    CommandLineInterface().run(["pybabel", "-q", *args])


def po_path(lang: str) -> Path:
    """Return the path of a language's .po file."""
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def extract(pot: Path) -> Path:
    """Extract every marked string of the package and the templates into a .pot file."""
    keywords = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
    _pybabel("extract", "-F", str(BABEL_CFG), *keywords, "--sort-by-file", "--no-location",
             "--project", "Charrette", "-o", str(pot), str(ROOT))
    return pot


def update() -> None:
    """Extract the strings, then merge them into each catalogue (new ones start empty)."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = extract(Path(tmp) / "messages.pot")
        for lang in languages():
            command = "update" if po_path(lang).exists() else "init"
            _pybabel(command, "-i", str(pot), "-d", str(TRANSLATIONS), "-l", lang, "--width", "100")


def compiled(po: Path, lang: str) -> bytes:
    """Return the .mo a .po file compiles to (fuzzy entries left out)."""
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def messages(mo: bytes) -> tuple[list, dict]:
    """The header and translations a .mo holds, less the Babel release that wrote it
    (a new Babel on a new machine must not make the committed .mo files look stale)."""
    catalog = read_mo(io.BytesIO(mo))
    header = [(k, v) for k, v in catalog.mime_headers if k != "Generated-By"]
    return header, {(m.id if isinstance(m.id, str) else tuple(m.id), m.context): m.string
                    for m in catalog if m.id}


def compile_all() -> list[Path]:
    """Compile every catalogue to the .mo file Flask-Babel reads; return the files written."""
    written = []
    for lang in languages():
        mo = po_path(lang).with_suffix(".mo")
        mo.write_bytes(compiled(po_path(lang), lang))
        written.append(mo)
    return written


def placeholders(text: str) -> list[str]:
    """Return the sorted %(name)s / {name} placeholders of a message."""
    return sorted(set(PLACEHOLDER.findall(text or "")))


def problems(pot: Path, lang: str, po: Path | None = None) -> list[str]:
    """List what a catalogue lacks against a .pot: missing, empty, fuzzy, placeholders changed, stale .mo."""
    po = po or po_path(lang)
    with pot.open("rb") as f:
        template = read_po(f)
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    found = []
    for message in template:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        entry = catalog.get(key, context=message.context)
        if entry is None:
            found.append(f"{lang}: missing {key!r}")
            continue
        strings = entry.string if isinstance(entry.string, (list, tuple)) else [entry.string]
        ids = message.id if isinstance(message.id, (list, tuple)) else [message.id]
        if entry.fuzzy or not all(strings):
            found.append(f"{lang}: untranslated or fuzzy {key!r}")
            continue
        expected = placeholders(" ".join(ids))
        for string in strings:
            if placeholders(string) != expected:
                found.append(f"{lang}: placeholders {placeholders(string)} != {expected} in {key!r}")
    if not found and messages(po.with_suffix(".mo").read_bytes()) != messages(compiled(po, lang)):
        found.append(f"{lang}: messages.mo is stale; run `flask --app wsgi translate compile`")
    return found


@click.group("translate")
def translate_group():
    """Extract, update, compile and check the message catalogues."""


@translate_group.command("update")
def update_command():
    """Extract every string and merge it into each language's .po file, then compile."""
    update()
    for mo in compile_all():
        click.echo(f"compiled {mo.relative_to(ROOT)}")
    click.echo("Now translate the new (empty) and fuzzy entries, then run `translate compile`.")


@translate_group.command("compile")
def compile_command():
    """Compile each language's .po file into the .mo file the app reads."""
    for mo in compile_all():
        click.echo(f"compiled {mo.relative_to(ROOT)}")


@translate_group.command("check")
def check_command():
    """Fail when any string is missing, untranslated, fuzzy or stale in any catalogue."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = extract(Path(tmp) / "messages.pot")
        found = [problem for lang in languages() for problem in problems(pot, lang)]
    for problem in found:
        click.echo(problem)
    if found:
        raise click.ClickException(f"{len(found)} problems in the catalogues.")
    click.echo("Every catalogue is complete.")
