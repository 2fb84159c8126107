"""The one check step (workshop/checks.py): a client id taken without its form answers as the form does."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workshop import checks
from workshop.errors import Refused


def _answer(check, cid):
    """What a check makes of a cid: ("ok", the id) or ("refused", the message)."""
    try:
        return "ok", check(cid)
    except Refused as refusal:
        return "refused", str(refusal.message)


def _by_form(cid):
    return checks.parse(checks.ClientIdForm, {"cid": cid}).cid.data


def _by_split(cid):
    found, rest = checks.split_client_id({"cid": cid, "dots": 1})
    assert rest == {"dots": 1}
    return found


IDS = ["vote-00000001", "a" * 8, "a" * 7, "a" * 64, "a" * 65, "A-z_0-9-xyz", "", " " * 9, "abcdefgh\n",
       "abcdefgh ", " abcdefgh", "abcdéfgh", "abcdefgh\u202e", "../../etc/passwd", "ab cd efgh", "१२३४५६७८",
       12345678, 1234, 2**60, 0, -12345678, None, True, 1.5, [], ["vote-00000001"], {"$ne": ""}]


@pytest.mark.parametrize("cid", IDS, ids=repr)
def test_every_kind_of_client_id_gets_the_forms_answer(app, cid):
    with app.test_request_context():
        assert _answer(_by_split, cid) == _answer(_by_form, cid)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])  # the app: read only
@given(st.text(max_size=70) | st.text(alphabet="abcXYZ019_-\n \u00e9", max_size=70))
def test_any_text_as_a_client_id_gets_the_forms_answer(app, cid):
    with app.test_request_context():
        assert _answer(_by_split, cid) == _answer(_by_form, cid)


def test_a_missing_client_id_is_refused_from_a_phone_and_none_from_the_console(app):
    with app.test_request_context():
        with pytest.raises(Refused):
            checks.split_client_id({"dots": 1})
        assert checks.split_client_id({"dots": 1}, required=False) == (None, {"dots": 1})
