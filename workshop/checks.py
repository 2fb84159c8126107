"""The one parse-and-check step every input goes through: socket payloads, phone posts, uploads.

A payload (a JSON object from a socket, or the fields of a posted form) is
checked by a WTForms form: only flat objects of the form's own fields, with
scalar (or list-of-scalar) values, pass; the first error is refused with the
field's label. Stage kinds and page forms build their forms from the filters
and validators here, so this module sits below both.
"""
from __future__ import annotations

import re
from collections import namedtuple
from functools import lru_cache

from flask_babel import get_translations, ngettext
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Form, IntegerField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Regexp

from .errors import Refused


class BabelTranslations:
    """WTForms' own messages ("Field cannot be longer than 1000 characters.") in the language of the
    person who sent the input, from Charrette's catalogue (marked in `_wtforms_messages`); WTForms
    fills in the numbers itself."""

    def gettext(self, string):
        return get_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        return get_translations().ungettext(singular, plural, n)


TRANSLATIONS = BabelTranslations()
META = {"get_translations": lambda _form: TRANSLATIONS}


def _wtforms_messages() -> None:  # never called: marks WTForms' messages for `translate update`
    _l("This field is required.")
    _l("Not a valid integer value.")
    _l("Not a valid choice.")
    _l("Invalid input.")
    _l("Invalid email address.")
    _l("Invalid choice(s): one or more data inputs could not be coerced.")
    _l("Number must be at least %(min)s.")
    _l("Number must be at most %(max)s.")
    _l("Number must be between %(min)s and %(max)s.")
    _l("Field must be between %(min)d and %(max)d characters long.")
    ngettext("Field must be at least %(min)d character long.",
             "Field must be at least %(min)d characters long.", 1)
    ngettext("Field cannot be longer than %(max)d character.",
             "Field cannot be longer than %(max)d characters.", 1)
    ngettext("Field must be exactly %(max)d character long.",
             "Field must be exactly %(max)d characters long.", 1)
    ngettext("'%(value)s' is not a valid choice for this field.",
             "'%(value)s' are not valid choices for this field.", 1)


# The messages people meet most are worded here.
REQUIRED = InputRequired(message=_l("Fill in this field."))
CLIENT_ID_CHARS, CLIENT_ID_LENGTH = "A-Za-z0-9_-", (8, 64)  # what a client id may hold, and how many
CLIENT_ID = [REQUIRED, Length(min=CLIENT_ID_LENGTH[0], max=CLIENT_ID_LENGTH[1]),
             Regexp(rf"^[{CLIENT_ID_CHARS}]+$", message=_l("Invalid request id."))]


# Bidirectional controls: embeddings and overrides end at PDF, isolates at PDI.
BIDI_OPEN = {"\u202a": "\u202c", "\u202b": "\u202c", "\u202d": "\u202c", "\u202e": "\u202c",
             "\u2066": "\u2069", "\u2067": "\u2069", "\u2068": "\u2069"}
BIDI_CLOSE = {"\u202c", "\u2069"}


def balance_bidi(text: str) -> str:
    """Close every bidi control a text opens, and drop closers with no opener.

    An idea holding an unclosed RIGHT-TO-LEFT OVERRIDE would reorder whatever a page shows
    after it (the next idea, the vote count); closed within itself it only affects itself.
    """
    if not any(c in BIDI_OPEN or c in BIDI_CLOSE for c in text):
        return text
    out, stack = [], []
    for c in text:
        if c in BIDI_OPEN:
            stack.append(BIDI_OPEN[c])
        elif c in BIDI_CLOSE:
            if not stack or stack[-1] != c:
                continue
            stack.pop()
        out.append(c)
    return "".join(out) + "".join(reversed(stack))


def strip(value):
    """Filter: drop surrounding whitespace from text input, its bidi controls closed."""
    return balance_bidi(value.strip()) if isinstance(value, str) else value


def one_line(value):
    """Filter: collapse a header-bound value (e-mail subject) onto one line."""
    return balance_bidi(" ".join(value.split())) if isinstance(value, str) else value


def parse(form_class: type[Form], payload) -> Form | Checked:
    """Validate a payload with a form, or raise Refused with the first error.

    Only flat JSON objects of known fields with scalar (or list-of-scalar) values pass. A payload
    of integers that surely passes a form of required integers is answered without building
    the form (`_plain_integers`): its fields' `.data` and `.data`, as the form would have them.
    """
    if not isinstance(payload, dict):
        raise Refused(_l("Invalid request."))
    if (plain := _plain_integers(form_class, payload)) is not None:
        return plain
    known = _field_types(form_class)
    unknown = set(payload) - set(known)
    if unknown:
        raise Refused(_l("Invalid request: unknown field %(name)s.", name=sorted(unknown)[0][:40]))
    pairs = []
    for key, value in payload.items():
        if isinstance(value, list) and not issubclass(known[key], SelectMultipleField):
            raise Refused(_l("Invalid value for %(name)s.", name=key))  # one value, not the first of many
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, bool) and issubclass(known[key], BooleanField):
                if v:
                    pairs.append((key, "y"))
                continue
            if isinstance(v, bool) or not isinstance(v, (str, int)) or (
                    not issubclass(known[key], StringField) and _too_big(v)):
                raise Refused(_l("Invalid value for %(name)s.", name=key))
            pairs.append((key, balance_bidi(v) if isinstance(v, str) else str(v)))
    form = form_class(formdata=MultiDict(pairs), meta=META)
    if not form.validate():
        field, errors = next(iter(form.errors.items()))
        raise Refused(f"{getattr(form, field).label.text}: {errors[0]}")
    return form


MAX_INT = 2**53  # ids and counts past this are no row of ours (SQLite stops at 2**63, JSON at 2**53)


def _too_big(value) -> bool:
    """An integer (or integer text) beyond MAX_INT: refused here, never reaching a query."""
    if isinstance(value, str):
        digits = value.strip().lstrip("+-").lstrip("0")
        return digits.isdigit() and (len(digits) > 16 and int(digits[:20]) > MAX_INT)
    return abs(value) > MAX_INT


class Checked:
    """What `parse` answers for a payload of integers that surely passes its form: each field's `.data`
    (`form.dots.data`), and `.data`, as the form would have them."""

    def __init__(self, values: dict[str, int]):
        self.data = dict(values)
        for name, value in values.items():
            setattr(self, name, _Datum(value))


_Datum = namedtuple("_Datum", "data")


def _plain_integers(form_class: type[Form], payload: dict) -> Checked | None:
    """Check a payload of integers against a form of required integers without building the form.

    A dot vote or a rank ({item_id, dots}) is such a form (`_integer_bounds`): a payload with each
    of its fields once, each a JSON integer within the field's NumberRange, passes it as it is.
    Anything else (None) goes through the form, which accepts or refuses it in its own words
    (tests/test_checks.py holds both to the same answers for every such form of every kind).
    Building the form was a tenth of a vote's instructions (2.13 M -> 1.92 M).
    """
    bounds = _integer_bounds(form_class)
    if bounds is None or payload.keys() != bounds.keys():
        return None
    for name, value in payload.items():
        low, high = bounds[name]
        if type(value) is not int or not low <= value <= high:
            return None
    return Checked(payload)


@lru_cache(maxsize=256)
def _integer_bounds(form_class: type[Form]) -> dict[str, tuple[int, int]] | None:
    """Return {field: (lowest, highest)} of a form made only of required integers, else None.

    Only IntegerFields without filters, checked by InputRequired and NumberRange alone, in a
    form with no checks of its own (no `validate_<field>`, no `validate` of its own).
    """
    own_checks = any(name.startswith("validate_") for name in dir(form_class))
    if own_checks or form_class.validate is not Form.validate:
        return None
    bounds = {}
    for field in form_class():
        if type(field) is not IntegerField or field.filters or field.name == "data":
            return None
        low, high, required = -MAX_INT, MAX_INT, False
        for validator in field.validators:
            if type(validator) is InputRequired:
                required = True
            elif type(validator) is NumberRange:
                low = low if validator.min is None else max(low, validator.min)
                high = high if validator.max is None else min(high, validator.max)
            else:
                return None
        if not required:
            return None
        bounds[field.name] = (low, high)
    return bounds or None


@lru_cache(maxsize=256)
def _field_types(form_class: type[Form]) -> dict[str, type]:
    """Return a form's field names and classes (built once per form: a vote parses two forms)."""
    return {field.name: type(field) for field in form_class()}


class ClientIdForm(Form):
    cid = StringField(_l("Request id"), validators=CLIENT_ID)


# Ids every ClientIdForm passes as they are (as phones make them): CLIENT_ID's characters and length.
PLAIN_CLIENT_ID = re.compile(rf"[{CLIENT_ID_CHARS}]{{{CLIENT_ID_LENGTH[0]},{CLIENT_ID_LENGTH[1]}}}")


def split_client_id(payload, required: bool = True) -> tuple[str | None, dict]:
    """Take the client-generated request id out of a payload, checking it.

    An id as phones make them is taken as it is; any other goes through ClientIdForm, which
    accepts or refuses it (tests/test_checks.py holds the two to the same answers). A vote
    has two forms to check otherwise: building this one was 9% of a vote's instructions (2.34 M -> 2.13 M).
    """
    if not isinstance(payload, dict):
        raise Refused(_l("Invalid request."))
    fields = {k: v for k, v in payload.items() if k != "cid"}
    if "cid" not in payload and not required:
        return None, fields
    cid = payload.get("cid", "")
    if isinstance(cid, str) and PLAIN_CLIENT_ID.fullmatch(cid):
        return cid, fields
    return parse(ClientIdForm, {"cid": cid}).cid.data, fields
