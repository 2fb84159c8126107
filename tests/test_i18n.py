"""Languages: catalogues complete, each phone in its own language, projector in the workshop's."""
from __future__ import annotations

import re
import shutil

import pytest
from babel.dates import format_date
from babel.messages.pofile import read_po, write_po
from flask import g
from flask_babel import force_locale

from tests.conftest import gen_facilitator, gen_workshop, views
from workshop import catalogues, i18n, live
from workshop.models import Workshop

CATALOGUED = ["nb", "sv", "mn"]


@pytest.fixture(scope="module")
def pot(tmp_path_factory):
    """Extract every marked string of the app afresh, as `flask translate update` does."""
    return catalogues.extract(tmp_path_factory.mktemp("pot") / "messages.pot")


def html_lang(html: str) -> str:
    """Return the language a page declares on <html>."""
    return re.search(r'<html lang="([\w-]+)"', html).group(1)


def h1(html: str) -> str:
    """Return the text of a page's first heading."""
    return re.search(r"<h1>(.*?)</h1>", html, re.S).group(1).strip()


# --- catalogues ---------------------------------------------------------------------

def test_every_language_has_a_catalogue_and_the_source_none():
    assert catalogues.languages() == CATALOGUED
    assert set(i18n.LANGUAGES) == {"en", *CATALOGUED}


@pytest.mark.parametrize("lang", CATALOGUED)
def test_every_string_is_translated_with_its_placeholders_and_compiled(pot, lang):
    with pot.open("rb") as f:
        assert len([m for m in read_po(f) if m.id]) > 400  # the extraction really found the app's strings
    assert catalogues.problems(pot, lang) == []


def test_the_check_catches_missing_empty_fuzzy_changed_and_stale(pot, tmp_path):
    po = tmp_path / "messages.po"
    shutil.copy(catalogues.po_path("nb"), po)
    shutil.copy(catalogues.po_path("nb").with_suffix(".mo"), tmp_path / "messages.mo")
    assert catalogues.problems(pot, "nb", po) == []
    # written by another Babel release (a new machine installs the newest): not stale
    mo = tmp_path / "messages.mo"
    mo.write_bytes(re.sub(rb"Generated-By: Babel [0-9.]+", b"Generated-By: Babel 9.99.9",
                          catalogues.compiled(po, "nb")))
    assert b"Babel 9.99.9" in mo.read_bytes()
    assert catalogues.problems(pot, "nb", po) == []
    with po.open("rb") as f:
        catalog = read_po(f, locale="nb")

    def edit(changes):
        with po.open("wb") as f:
            write_po(f, changes(catalog), width=100)
        return catalogues.problems(pot, "nb", po)

    def stale(c):
        c["Sign in"].string = "Logg på"
        return c
    assert edit(stale) == ["nb: messages.mo is stale; run `flask --app wsgi translate compile`"]

    def broken(c):
        c["Join"].string = ""
        c["Sign out"].flags.add("fuzzy")
        c["Step %(n)d of %(total)d"].string = "Steg %(n)d av %(totalt)d"
        c["{n} of {top} ranked"].string = "{n} rangert"
        c["%(num)d vote"].string = ("%(num)d stemme", "")
        c.delete("Workshops")
        return c
    found = edit(broken)
    for needle in ["untranslated or fuzzy 'Join'", "untranslated or fuzzy 'Sign out'",
                   "placeholders ['%(n)d', '%(totalt)d']", "placeholders ['{n}'] != ['{n}', '{top}']",
                   "untranslated or fuzzy '%(num)d vote'", "missing 'Workshops'"]:
        assert any(needle in problem for problem in found), (needle, found)


def test_translate_check_command_passes(runner):
    result = runner.invoke(args=["translate", "check"])
    assert result.exit_code == 0, result.output
    assert "Every catalogue is complete." in result.output


# --- which language a page is in ----------------------------------------------------

@pytest.mark.parametrize("header, lang, title", [
    ("nb-NO,nb;q=0.9,en;q=0.5", "nb", "Bli med i et verksted"),
    ("nn-NO,nn;q=0.9", "nb", "Bli med i et verksted"),      # Nynorsk reads Bokmål best
    ("no", "nb", "Bli med i et verksted"),
    ("sv-SE", "sv", "Gå med i en workshop"),
    ("fr-FR,mn;q=0.8", "mn", "Семинарт нэгдэх"),
    ("fr-FR,de;q=0.8", "en", "Join a workshop"),
])
def test_the_browser_language_is_the_default(client, header, lang, title):
    html = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert html_lang(html) == lang and h1(html) == title


def test_the_picker_remembers_a_choice_over_the_browser_language(client):
    page = client.get("/", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    picker = page[page.index('class="lang-picker"'):page.index("</nav>", page.index("lang-picker"))]
    for code, name in i18n.LANGUAGES.items():  # each language named in itself, marked with its code
        assert f'lang="{code}"' in picker and f">{name}</a>" in picker
    assert re.search(r'lang="sv"[^>]*\s+aria-current="true">Svenska', picker)

    response = client.get("/lang/mn?next=/j/ABCDEF")
    assert response.status_code == 302 and response.headers["Location"] == "/j/ABCDEF"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=mn;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    html = client.get("/", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert html_lang(html) == "mn" and h1(html) == "Семинарт нэгдэх"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "javascript:alert(1)", ""])
def test_the_picker_only_goes_back_to_this_site(client, target):
    assert client.get(f"/lang/sv?next={target}").headers["Location"] == "/"


def test_an_unknown_language_is_not_remembered(client):
    response = client.get("/lang/xx?next=/")
    assert "Set-Cookie" not in response.headers
    assert html_lang(client.get("/").get_data(as_text=True)) == "en"


def test_form_errors_are_in_the_phone_language(client):
    client.get("/lang/mn")
    html = client.post("/", data={"code": ""}).get_data(as_text=True)
    assert "Энэ талбарыг бөглөнө үү." in html
    html = client.post("/", data={"code": "ABC"}).get_data(as_text=True)
    assert "Семинарын код 6 тэмдэгттэй." in html


def test_numbers_and_dates_follow_the_language(app, client):
    with app.test_request_context(headers={"Accept-Language": "nb"}):
        g.pop("_flask_babel", None)  # the test's app context outlives a request
        assert i18n.decimal(3.456) == "3,5" and i18n.decimal(1234.5) == "1\xa0234,5"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        g.pop("_flask_babel", None)
        assert i18n.decimal(3.456) == "3.5"
    facilitator = gen_facilitator()
    workshop = gen_workshop(facilitator)
    client.post("/login", data={"email": facilitator.email, "password": "correct horse battery"})
    for lang in ("nb", "mn", "en"):
        client.get(f"/lang/{lang}")
        html = client.get("/workshops").get_data(as_text=True)
        assert format_date(workshop.created_at, "medium", locale=lang) in html
    assert format_date(workshop.created_at, "medium", locale="nb") != format_date(
        workshop.created_at, "medium", locale="en")


# --- the workshop's language: projector and report ----------------------------------

def test_the_facilitator_chooses_the_projector_language(client):
    facilitator = gen_facilitator()
    client.post("/login", data={"email": facilitator.email, "password": "correct horse battery"})
    client.get("/lang/nb")
    form = client.get("/workshops/new").get_data(as_text=True)
    assert re.search(r'<option selected value="nb">Norsk bokmål</option>', form)  # defaults to mine
    response = client.post("/workshops/new", data={
        "title": "Trygg migrasjon", "topic": "Menneskehandel", "groups": "Regjering\nUngdom",
        "template": "campaign", "language": "mn"})
    workshop = Workshop.query.one()
    assert response.status_code == 302 and workshop.language == "mn"

    projector = client.get(f"/w/{workshop.code}/present").get_data(as_text=True)
    assert html_lang(projector) == "mn" and "Нэгдэх хаяг" in projector
    console = client.get(f"/w/{workshop.code}/console").get_data(as_text=True)
    assert html_lang(console) == "nb" and "Bli med på" in console  # the console stays in mine
    assert '<option selected value="mn">Монгол</option>' in console

    client.post(f"/w/{workshop.code}/language", data={"language": "sv"})
    assert Workshop.query.one().language == "sv"
    projector = client.get(f"/w/{workshop.code}/present").get_data(as_text=True)
    assert html_lang(projector) == "sv" and "Gå med på" in projector
    client.post(f"/w/{workshop.code}/language", data={"language": "xx"})
    assert Workshop.query.one().language == "sv"


# --- live views: each phone in its language, rendered once per language --------------

def test_each_phone_gets_its_own_language_rendered_once_per_language(app, browser, monkeypatch):
    facilitator = gen_facilitator()
    workshop = gen_workshop(facilitator, language="sv")
    laptop = browser()
    laptop.login()
    console = laptop.socket(workshop.code, "console")
    projector = laptop.socket(workshop.code, "projector")
    phones = {}
    for name, lang in [("nb1", "nb"), ("nb2", "nb"), ("mn", "mn"), ("default", None)]:
        phone = browser()
        if lang:
            phone.http.get(f"/lang/{lang}")
        joined = phone.join(workshop.code, group=workshop.groups[0])  # "Myndigheter"
        assert joined.status_code == 200 and 'data-role="phone"' in joined.get_data(as_text=True)
        phones[name] = phone.socket(workshop.code, "phone")
    for sock in [console, projector, *phones.values()]:
        sock.get_received()

    rendered = []
    real_render = live.render
    monkeypatch.setattr(live, "render", lambda view: rendered.append(
        (view.audience, i18n.current())) or real_render(view))
    stage = workshop.stages[0]
    reply = console.emit("stage:go", {"stage_id": stage.id, "phase": "collect"}, callback=True)
    assert reply["ok"], reply

    steps = {"nb": "Steg 1 av 5", "mn": "Алхам 1/5", "en": "Step 1 of 5"}
    for name, lang in [("nb1", "nb"), ("nb2", "nb"), ("mn", "mn"), ("default", "en")]:
        (view,) = views(phones[name])
        assert view["lang"] == lang and steps[lang] in view["html"], name
        assert not any(text in view["html"] for other, text in steps.items() if other != lang)
    (room_view,) = views(projector)
    assert room_view["lang"] == "sv" and "Samlar in idéer" in room_view["html"]
    (console_view,) = views(console)
    assert console_view["lang"] == "en" and "Collecting ideas" in console_view["html"]
    phone_renders = sorted(lang for audience, lang in rendered if audience == "phone")
    assert phone_renders == ["en", "mn", "nb"]  # two Norwegian phones, one render

    # A refusal comes back in the phone's own language.
    reply = phones["mn"].emit("idea:add", {"cid": "c" * 16, "title": ""}, callback=True)
    assert reply["ok"] is False and re.search("[\u0400-\u04ff]", reply["error"]), reply
    sync = phones["nb1"].emit("sync", {}, callback=True)
    assert sync["view"]["lang"] == "nb" and "Steg 1 av 5" in sync["view"]["html"]


def test_changing_the_workshop_language_reaches_the_open_projector(app, browser):
    facilitator = gen_facilitator()
    workshop = gen_workshop(facilitator)
    laptop = browser()
    laptop.login()
    projector = laptop.socket(workshop.code, "projector")
    projector.get_received()
    laptop.http.post(f"/w/{workshop.code}/language", data={"language": "nb"})
    (view,) = views(projector)
    assert view["lang"] == "nb"  # live.js reloads the page when this differs from <html lang>


def test_stage_titles_and_prompts_start_in_the_workshop_language(app):
    from workshop.flow import agenda
    workshop = gen_workshop(language="mn", template="problem")
    assert [s.title for s in workshop.stages] == ["Хандлага сонгох", "Зорилтот бүлгээ сонгох"]
    assert workshop.stages[1].prompt == "Энэ хандлага өөрчлөгдөхийн тулд хэн зан үйлээ өөрчлөх ёстой вэ?"
    agenda.add_stage(workshop, "drafts")
    assert workshop.stages[-1].title == "Ноорогт санал өгөх"


def test_shares_are_written_the_way_the_language_writes_percentages(app):
    from flask import render_template_string
    for lang, expected in (("en", "33%"), ("nb", "33\xa0%"), ("sv", "33\xa0%")):
        with app.test_request_context(headers={"Accept-Language": lang}):
            g.pop("_flask_babel", None)
            assert render_template_string("{{ 0.333|percentformat }}") == expected


def test_facilitators_find_the_picker_on_sign_in_and_their_workshops(client):
    facilitator = gen_facilitator()
    assert 'class="lang-picker"' in client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": facilitator.email, "password": "correct horse battery"})
    assert 'class="lang-picker"' in client.get("/workshops").get_data(as_text=True)


def test_only_languages_in_use_are_rendered_and_all_of_them_across_processes(app, browser):
    from workshop import broadcast
    workshop = gen_workshop(gen_facilitator())
    assert broadcast.languages_in_use(workshop.id, "phone") == []  # nobody connected: no render at all
    phone = browser()
    phone.http.get("/lang/sv")
    phone.join(workshop.code)
    phone.socket(workshop.code, "phone")
    assert broadcast.languages_in_use(workshop.id, "phone") == ["sv"]
    assert broadcast.languages_in_use(workshop.id, "console") == []
    # Several processes: the languages are kept in Redis (tests/test_realtime.py); when Redis
    # cannot say, every language is rendered rather than a screen left blank.
    import redis
    coalescer = app.extensions["charrette.coalescer"]
    coalescer.redis, coalescer.prefix = redis.Redis(port=1, socket_connect_timeout=0.2), "unreachable"
    assert broadcast.languages_in_use(workshop.id, "phone") == list(i18n.LANGUAGES)


def test_default_stakeholder_groups_are_offered_in_the_facilitators_language(client):
    facilitator = gen_facilitator()
    client.post("/login", data={"email": facilitator.email, "password": "correct horse battery"})
    client.get("/lang/sv")
    form = client.get("/workshops/new").get_data(as_text=True)
    assert "Myndigheter\nCivilsamhälle\nFN / givare\nKreativ partner\nUnga\nÖvrigt" in form
    assert gen_workshop(facilitator, language="mn").groups[0] == "Засгийн газар"


def test_refusals_kind_labels_and_prompts_speak_the_phones_language(app, browser):
    """WTForms' own messages (a comment too long, a number out of range, a missing tag) and the stage
    kind's label and prompt reach each phone in its language; a title the facilitator wrote stays
    as written."""
    from tests.conftest import goto
    from workshop import events
    workshop = gen_workshop(gen_facilitator(), language="en")
    concepts = goto(workshop, "concepts", "vote")
    item = events.run("item:add", workshop, None, {"stage_id": concepts.id, "title": "Ask first",
                                                   "message": "Ask three questions"})["item"]
    expected = {
        "nb": ("Feltet kan ikke være lengre enn 1000 tegn.", "Tallet må være mellom 1 og 5.",
               "Vurder konsepter"),
        "sv": ("Fältet får inte vara längre än 1000 tecken.", "Talet måste vara mellan 1 och 5.", None),
        "mn": ("1000 тэмдэгтээс урт байж болохгүй.", "Тоо 1-аас 5-ын хооронд байх ёстой.", None),
        "en": ("Field cannot be longer than 1000 characters.", "Number must be between 1 and 5.",
               "Review concepts"),
    }
    for lang, (too_long, out_of_range, label) in expected.items():
        phone = browser()
        phone.http.get(f"/lang/{lang}")
        phone.join(workshop.code, group=workshop.groups[0])
        sock = phone.socket(workshop.code, "phone")
        reply = sock.emit("comment:add", {"cid": f"cid-{lang}-0001", "item_id": item["id"], "tag": "keep",
                                          "text": "x" * 3000}, callback=True)
        assert reply["ok"] is False and reply["error"].endswith(too_long), (lang, reply)
        reply = sock.emit("vote", {"cid": f"cid-{lang}-0002", "item_id": item["id"], "criterion": "clear",
                                   "value": 9}, callback=True)
        assert reply["ok"] is False and reply["error"].endswith(out_of_range), (lang, reply)
        reply = sock.emit("comment:add", {"cid": f"cid-{lang}-0003", "item_id": item["id"], "text": "ok"},
                          callback=True)
        assert reply["ok"] is False and (lang == "en") is ("Pick keep" in reply["error"]), (lang, reply)
        html = sock.emit("sync", {}, callback=True)["view"]["html"]
        if label:
            assert label in html, lang
        with force_locale(lang):
            assert str(kind_label("concepts")) in html and str(kind_prompt("concepts")) in html, lang
            assert (lang == "en") is ("Review concepts" in html), lang
    events.run("stage:edit", workshop, None, {"stage_id": concepts.id, "title": "Our own title",
                                              "prompt": "Our own words"})
    phone = browser()
    phone.http.get("/lang/mn")
    phone.join(workshop.code, group=workshop.groups[0])
    page = phone.http.get(f"/j/{workshop.code}").get_data(as_text=True)
    assert "Our own title" in page and "Our own words" in page


def kind_label(key):
    from workshop.stages import KINDS
    return KINDS[key].label


def kind_prompt(key):
    from workshop.stages import KINDS
    return KINDS[key].prompt
