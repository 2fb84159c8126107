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


def _every_form_class():
    """Every WTForms form class of the package: the page forms and every stage kind's."""
    import importlib
    import pkgutil

    from wtforms import Form

    import workshop
    for module in pkgutil.walk_packages(workshop.__path__, "workshop."):
        if not module.name.endswith(("_child", "worker_child")):
            importlib.import_module(module.name)
    found, todo = set(), [Form]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return sorted((c for c in found if c.__module__.startswith("workshop.")), key=lambda c: c.__qualname__)


INTEGER_FORMS = [c for c in _every_form_class() if checks._integer_bounds(c) is not None]


def test_the_forms_of_plain_integers_are_the_dot_vote_and_the_rank_and_none_with_checks_of_their_own():
    names = {c.__name__ for c in INTEGER_FORMS}
    assert {"DotsForm", "RankForm", "StageIdForm"} <= names
    assert not names & {"VerdictForm", "FistForm", "RatingForm", "DotSettingsForm", "ClientIdForm"}


def _form_answer(form_class, payload):
    """What the form itself makes of a payload: ("ok", its data) or ("refused", the message)."""
    try:
        saved, checks._integer_bounds = checks._integer_bounds, lambda _c: None  # the form, always
        try:
            return "ok", checks.parse(form_class, payload).data
        finally:
            checks._integer_bounds = saved
    except Refused as refusal:
        return "refused", str(refusal.message)


def _parse_answer(form_class, payload):
    try:
        return "ok", checks.parse(form_class, payload).data
    except Refused as refusal:
        return "refused", str(refusal.message)


EDGES = [0, 1, -1, 5, 20, 21, 2**53, 2**53 + 1, -(2**53) - 1,
         True, False, None, "3", " 3", "", 2.0, [3], {"a": 1}]


@pytest.mark.parametrize("form_class", INTEGER_FORMS, ids=lambda c: c.__qualname__)
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_payload_of_integers_gets_the_forms_answer_for_every_form_of_integers(app, form_class, data):
    names = list(checks._field_types(form_class))
    value = st.integers(min_value=-30, max_value=30) | st.sampled_from(EDGES)
    keys = data.draw(st.lists(st.sampled_from([*names, "other"]), unique=True) | st.just(names))
    payload = {key: data.draw(value) for key in keys}
    with app.test_request_context():
        assert _parse_answer(form_class, payload) == _form_answer(form_class, payload)


def test_a_dot_vote_of_integers_answers_with_the_fields_data(app):
    from workshop.stages.trend.forms import DotsForm
    with app.test_request_context():
        checked = checks.parse(DotsForm, {"item_id": 7, "dots": 3})
        assert (checked.item_id.data, checked.dots.data, checked.data) == (7, 3, {"item_id": 7, "dots": 3})
        assert not isinstance(checked, DotsForm)  # the form was not built
        assert isinstance(checks.parse(DotsForm, {"item_id": "7", "dots": 3}), DotsForm)  # text: the form's
