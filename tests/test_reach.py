"""Reach and engagement per channel: typed by hand or imported from a CSV, against the strategy's targets
(whose changes go into the strategy's history); bad figures refused with their row and column, none stored."""
from __future__ import annotations

import io

import pytest

from tests.conftest import gen_facilitator
from workshop import campaign_exports, reach
from workshop.flow import campaigns
from workshop.kapimport import FileRefused

PASSWORD = "correct horse battery"


@pytest.fixture
def campaign(app):
    return campaigns.create_campaign(gen_facilitator(), title="Safe migration")


@pytest.mark.parametrize("text, value", [("26 000 000", 26_000_000), ("26,000,000", 26_000_000), ("1.350",
                                                                                                  1350),
                                         ("1350", 1350), ("", None), ("\u202f4\u202f200", 4200)])
def test_numbers_are_read_as_people_type_them(text, value):
    assert reach.number(text) == value


@pytest.mark.parametrize("text", ["12.5", "-3", "1,35", "lots", "1 2 3", "9" * 17])
def test_what_is_no_whole_number_is_refused(text):
    with pytest.raises(ValueError):
        reach.number(text)


def test_the_form_saves_every_channel_and_records_target_changes(campaign):
    form = {"ch0.name": "TikTok", "ch0.reach.result": "180 000", "ch0.reach.target": "150 000",
            "ch0.impressions.result": "26 400 000", "ch1.name": "Hotline", "ch1.hotline.result": "1350",
            "ch1.hotline.target": "1000", "ch2.name": ""}
    rows, errors = reach.read_form(form)
    assert errors == {}
    reach.save(campaign, rows, "Fac")
    channels = reach.channels(campaign)
    assert [c.name for c in channels] == ["TikTok", "Hotline"]
    assert channels[0].results["impressions"] == 26_400_000 and channels[0].targets["reach"] == 150_000
    total = reach.totals(channels)
    assert total.results["reach"] == 180_000 and total.results["comments"] is None
    targets = [c for c in campaign.history if c.key.startswith("reach.")]
    assert {(c.key, c.before, c.after) for c in targets} == {
        ("reach.TikTok.reach", "", "150,000"), ("reach.Hotline.hotline", "", "1,000")}
    rows, _ = reach.read_form({**form, "ch0.reach.target": "200 000"})
    reach.save(campaign, rows, "Fac")
    assert campaign.history[-1].before == "150,000" and campaign.history[-1].after == "200,000"
    exported = campaign_exports.reach_rows(campaign)
    assert {"channel": "All channels", "metric": "hotline", "result": 1350, "target": 1000,
            "share_of_target": 135.0, "total": True} in exported


def test_errors_are_keyed_by_their_cell_and_nothing_is_stored(campaign, client):
    client.post("/login", data={"email": "fac@example.org", "password": PASSWORD})
    reply = client.post(f"/campaigns/{campaign.id}/reach", data={
        "ch0.name": "TikTok", "ch0.reach.result": "lots", "ch1.name": "", "ch1.shares.result": "5",
        "ch2.name": "tiktok"})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400 and "A whole number" in html and "Name the channel." in html
    assert "Each channel once." in html and reach.channels(campaign) == []


def test_a_csv_of_results_merges_into_the_channels(campaign):
    reach.save(campaign, [reach.Channel("TikTok", {"reach": 1}, {"reach": 150_000})], "Fac")
    raw = (b"Channel;Impressions;Reach;Chatbot conversations;Target reach\n"
           b"TikTok;26 400 000;180 000;;\nChatbot;;;4200;\n")
    assert reach.import_csv(campaign, raw, "Fac") == 2
    channels = {c.name: c for c in reach.channels(campaign)}
    assert channels["TikTok"].results == {"impressions": 26_400_000, "reach": 180_000}
    assert channels["TikTok"].targets["reach"] == 150_000  # an empty target cell changes nothing
    assert channels["Chatbot"].results["chatbot"] == 4200


@pytest.mark.parametrize("raw, words", [
    (b"name,reach\nTikTok,5\n", "named \u201cchannel\u201d"),
    (b"channel,colour\nTikTok,red\n", "none of the columns"),
    (b"channel,reach\nTikTok,five\n", "Row 2, column B (reach): \u201cfive\u201d is not a whole number"),
    (b"channel,reach\n,5\n", "Row 2: the channel has no name"),
    (b"channel,reach\n", "no channels"),
])
def test_a_bad_csv_is_refused_with_its_row_and_column(campaign, raw, words):
    with pytest.raises(FileRefused) as caught:
        reach.import_csv(campaign, raw, "Fac")
    assert words in " ".join([caught.value.message, *caught.value.problems])
    assert reach.channels(campaign) == [] and campaign.history == []


def test_the_reach_page_imports_and_shows_totals(campaign, client):
    client.post("/login", data={"email": "fac@example.org", "password": PASSWORD})
    reply = client.post(f"/campaigns/{campaign.id}/reach/import", content_type="multipart/form-data", data={
        "file": (io.BytesIO(b"channel,reach,target_reach\nTikTok,180000,150000\nRadio,20000,50000\n"),
                 "r.csv")},
        follow_redirects=True)
    html = reply.get_data(as_text=True)
    assert "2 channels imported." in html and "200,000" in html and "100.0%" in html
    exported = client.get(f"/campaigns/{campaign.id}/reach.csv").get_data(as_text=True)
    assert "TikTok,reach,180000,150000,120.0,no" in exported
