"""Where the survey on phones keeps its answers: the campaign's baseline or endline, one SurveyResponse per
person, so the campaign's results, report and exports read them as they read an imported export; and what
retention keeps of them once they are deleted (kapresults.totals, on the Survey).

A response knows the stage and the phone it came from (the phone may go back and change an answer);
its `uuid` is random, its `row` the next number of the survey: nothing in it says who answered.
"""
from __future__ import annotations

import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from ... import kapform, kapresults
from ...campaign_models import Campaign, CampaignWorkshop, Survey, SurveyResponse
from ...extensions import db
from ...models import Stage, Workshop, utcnow

_CAMPAIGN = (select(Campaign).join(CampaignWorkshop, CampaignWorkshop.campaign_id == Campaign.id)
             .join(Stage, Stage.workshop_id == CampaignWorkshop.workshop_id))
_MINE = (select(SurveyResponse).join(Survey, Survey.id == SurveyResponse.survey_id))


def campaign_of(stage_id: int) -> Campaign | None:
    """Return the campaign the stage's workshop belongs to, if any."""
    return db.session.scalar(_CAMPAIGN.where(Stage.id == stage_id))


def response_of(campaign: Campaign, stage_id: int, participant_id: int) -> SurveyResponse | None:
    """Return the response a phone gave in a stage (in this campaign), if it gave any."""
    return db.session.scalar(_MINE.where(Survey.campaign_id == campaign.id,
                                         SurveyResponse.stage_id == stage_id,
                                         SurveyResponse.participant_id == participant_id))


def _survey(campaign: Campaign, wave: str, stage_id: int) -> Survey:
    """Return the campaign's survey of a wave, made now (named after the workshop) if it has none yet."""
    found = db.session.scalar(select(Survey).where(Survey.campaign_id == campaign.id, Survey.wave == wave))
    if found is not None:
        return found
    workshop = db.session.scalar(select(Workshop).join(Stage, Stage.workshop_id == Workshop.id)
                                 .where(Stage.id == stage_id))
    try:
        with db.session.begin_nested():  # two first answers at once: the second finds the first's survey
            survey = Survey(campaign_id=campaign.id, wave=wave, ignored=[], kept=[],
                            filename=f"Charrette · {workshop.title}"[:200],
                            author=workshop.facilitator.name[:120])
            db.session.add(survey)
    except IntegrityError:
        return db.session.scalar(select(Survey).where(Survey.campaign_id == campaign.id, Survey.wave == wave))
    db.session.expire(campaign, ["surveys"])
    return survey


def store(campaign: Campaign, stage_id: int, wave: str, participant_id: int, answers: dict) -> dict:
    """Add a phone's answers to its response (made on its first answer, in `wave`); return all its answers."""
    response = response_of(campaign, stage_id, participant_id)
    if response is None:
        if not answers:
            return {}
        survey = _survey(campaign, wave, stage_id)
        row = 1 + (db.session.scalar(select(func.max(SurveyResponse.row)).where(
            SurveyResponse.survey_id == survey.id)) or 0)
        response = SurveyResponse(survey_id=survey.id, row=row, uuid=secrets.token_hex(16), answers={},
                                  stage_id=stage_id, participant_id=participant_id)
        db.session.add(response)
    response.answers = {**(response.answers or {}), **answers}  # a new dict: the JSON column sees the change
    response.submitted = utcnow().isoformat(timespec="seconds")
    return response.answers


def rows(stage_id: int) -> list[dict]:
    """Return the answers of everyone who answered in a stage."""
    return list(db.session.scalars(select(SurveyResponse.answers).where(SurveyResponse.stage_id == stage_id)
                                   .order_by(SurveyResponse.id)))


def count(stage_id: int) -> int:
    """Return how many people answered in a stage."""
    return db.session.scalar(select(func.count(SurveyResponse.id)).where(SurveyResponse.stage_id == stage_id))


def in_waves(stage_id: int) -> dict[str, int]:
    """Return how many of a stage's respondents are in each wave (changing the wave moves nobody)."""
    return dict(db.session.execute(select(Survey.wave, func.count(SurveyResponse.id))
                                   .join(Survey, Survey.id == SurveyResponse.survey_id)
                                   .where(SurveyResponse.stage_id == stage_id).group_by(Survey.wave)).all())


def delete_raw(stage, workshop_title: str) -> int:
    """Delete a stage's responses, keeping on each survey the totals the indicators need; return how many."""
    gone = 0
    surveys = select(Survey).join(SurveyResponse, SurveyResponse.survey_id == Survey.id)
    for survey in db.session.scalars(surveys.where(SurveyResponse.stage_id == stage.id).distinct()).all():
        answers = list(db.session.scalars(select(SurveyResponse.answers).where(
            SurveyResponse.survey_id == survey.id, SurveyResponse.stage_id == stage.id)))
        survey.kept = [*(survey.kept or []), {
            "stage_id": stage.id, "workshop": workshop_title, "respondents": len(answers),
            "deleted_at": utcnow().isoformat(timespec="seconds"),
            "groups": kapresults.totals(kapform.questions(survey.campaign), answers)}]
        gone += db.session.execute(delete(SurveyResponse).where(SurveyResponse.survey_id == survey.id,
                                                                SurveyResponse.stage_id == stage.id)).rowcount
    return gone
