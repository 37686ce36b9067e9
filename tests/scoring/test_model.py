"""The predictive model: points only below the thresholds, versions above them, and factors that add up."""

import numpy as np
import pytest
from django.test import override_settings
from django.utils import timezone

from crm.choices import Stage
from crm.models import Lead
from scoring.models import LeadScore, ScoringModel
from scoring.services import leads_rescore_all, model_active, scoring_model_train
from scoring.services.training import KEEP_ARTIFACTS, training_set
from scoring.tasks import scoring_model_train_task

from .conftest import closed_leads

pytestmark = pytest.mark.usefixtures("small_thresholds")


@pytest.fixture
def small_thresholds():
    with override_settings(SCORING_MIN_CLOSED=40, SCORING_MIN_PER_OUTCOME=10, SCORING_CV_FOLDS=3):
        yield


@pytest.mark.parametrize(("won", "lost"), [(20, 15), (35, 9)])
def test_too_few_closed_leads_means_no_model_and_points_only(won, lost, add_rule):
    add_rule("grade", 20, operator="eq", value="A")
    closed_leads(won=won, lost=lost, open_=3)
    assert scoring_model_train() is None
    assert not ScoringModel.objects.exists()
    leads_rescore_all()
    open_lead = Lead.objects.filter(stage=Stage.CONTACTED, grade="A").first()
    detail = LeadScore.objects.get(lead=open_lead)
    assert (detail.points, detail.win_probability, detail.model_version_id, detail.top_factors) == (20, None, None, [])
    assert Lead.objects.filter(win_probability__isnull=False).count() == 0


def test_enough_closed_leads_train_a_versioned_model_that_scores_open_leads():
    closed_leads(won=30, lost=30, open_=10)
    model = scoring_model_train()
    assert (model.version, model.n_won, model.n_lost, model.is_active) == (1, 30, 30, True)
    assert 0.5 < model.cv_auc <= 1.0
    assert "grade" in model.features and model.training_seconds > 0
    assert leads_rescore_all() == 70
    open_scores = LeadScore.objects.filter(lead__stage=Stage.CONTACTED)
    assert open_scores.count() == 10
    assert all(s.model_version_id == 1 and s.win_probability is not None for s in open_scores)
    # A closed lead's outcome is known: it keeps points but gets no probability.
    assert not LeadScore.objects.exclude(lead__stage=Stage.CONTACTED).filter(win_probability__isnull=False).exists()
    good = Lead.objects.get(pk=open_scores.filter(lead__grade="A").first().lead_id)
    bad = Lead.objects.get(pk=open_scores.filter(lead__grade="C").first().lead_id)
    assert good.win_probability > bad.win_probability


def test_each_scored_lead_shows_its_top_factors():
    closed_leads(won=30, lost=30, open_=4)
    scoring_model_train()
    leads_rescore_all()
    for detail in LeadScore.objects.filter(lead__stage=Stage.CONTACTED):
        assert detail.top_factors, detail.lead_id
        assert {"feature", "value", "effect"} == set(detail.top_factors[0])
        effects = [abs(f["effect"]) for f in detail.top_factors]
        assert effects == sorted(effects, reverse=True)
    grade_a = LeadScore.objects.filter(lead__stage=Stage.CONTACTED, lead__grade="A").first()
    grade_factor = next(f for f in grade_a.top_factors if f["feature"] in ("grade", "budget_known"))
    assert grade_factor["effect"] > 0


def test_the_factors_add_up_to_the_models_own_log_odds():
    closed_leads(won=30, lost=30, open_=5)
    frame, won = training_set(limit=1000)
    model = scoring_model_train()
    fitted = model_active()[1]
    probability, credit = fitted.explain(frame)
    matrix = fitted.builder.transform(frame)
    np.testing.assert_allclose(fitted.bias + credit.sum(axis=1), fitted.estimator.decision_function(matrix), atol=1e-6)
    np.testing.assert_allclose(probability, fitted.estimator.predict_proba(matrix)[:, 1], atol=1e-6)
    assert model.version == 1 and len(won) == 60


def test_retraining_makes_a_new_version_and_scores_name_it():
    closed_leads(won=30, lost=30, open_=3)
    scoring_model_train()
    leads_rescore_all()
    assert set(LeadScore.objects.exclude(model_version=None).values_list("model_version", flat=True)) == {1}
    for _ in range(KEEP_ARTIFACTS):
        scoring_model_train()
    latest = KEEP_ARTIFACTS + 1
    assert model_active()[0] == latest
    leads_rescore_all()
    assert set(LeadScore.objects.exclude(model_version=None).values_list("model_version", flat=True)) == {latest}
    # Figures of every version stay; only the oldest pickles go.
    assert list(ScoringModel.objects.values_list("version", flat=True)) == list(range(latest, 0, -1))
    assert ScoringModel.objects.get(version=1).artifact in (b"", memoryview(b""))
    assert ScoringModel.objects.get(version=latest).artifact


def test_dropping_below_the_thresholds_retires_the_model():
    leads = closed_leads(won=30, lost=30, open_=3)
    scoring_model_train()
    Lead.objects.filter(pk__in=[lead.pk for lead in leads[:25]]).update(stage=Stage.CONTACTED)
    assert scoring_model_train() is None
    assert model_active() is None
    assert not ScoringModel.objects.filter(is_active=True).exists()
    leads_rescore_all()
    assert not LeadScore.objects.filter(win_probability__isnull=False).exists()


def test_the_training_task_trains_then_rescores_everyone(django_capture_on_commit_callbacks):
    closed_leads(won=30, lost=30, open_=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert scoring_model_train_task.delay().get() == 1
    assert LeadScore.objects.filter(model_version=1).count() == 3


def test_the_model_learns_from_attributes_and_scores_with_only_the_keys_it_needs(rep):
    leads = closed_leads(won=30, lost=30, open_=6)
    for i, lead in enumerate(leads):
        good = lead.grade == "A"
        lead.attributes = {
            "industry": "制造业" if good else "零售",
            "employees": 800 + i if good else 20 + i,
            "notes": {"free": f"text {i}"},  # nested: flattened to notes.free
        }
    Lead.objects.bulk_update(leads, ["attributes"])
    model = scoring_model_train()
    assert {"attributes.industry", "attributes.employees", "attributes.notes.free"} <= set(model.features)
    fitted = model_active()[1]
    assert fitted.builder.attribute_keys >= {"industry", "employees"}
    leads_rescore_all()
    # The job extracted only the needed keys (or read whole for the nested one): same answer as training's read.
    frame, _won = training_set(limit=1000)
    open_ids = list(Lead.objects.filter(stage=Stage.CONTACTED).order_by("pk").values_list("pk", flat=True))
    stored = dict(LeadScore.objects.filter(lead_id__in=open_ids).values_list("lead_id", "win_probability"))
    from scoring.services.reading import Archive, Scope, chunk_read

    whole = chunk_read(Scope(ids=tuple(open_ids)), now=timezone.now(), archive=Archive()).frame
    expected = fitted.predict(whole)
    assert [float(stored[pk]) for pk in open_ids] == pytest.approx(expected.tolist(), abs=1e-4)
    factors = {f["feature"] for pk in open_ids for f in LeadScore.objects.get(lead_id=pk).top_factors}
    assert factors & {"attributes.industry", "attributes.employees"}
    assert len(frame) == 60


def test_a_training_sample_of_nearly_one_outcome_keeps_the_current_model(settings):
    leads = closed_leads(won=30, lost=30)
    first = scoring_model_train()
    settings.SCORING_MAX_TRAIN_ROWS = 25
    Lead.objects.filter(pk__in=[lead.pk for lead in leads[:30]]).update(closed_at="2030-01-01T00:00Z")
    assert scoring_model_train() is None  # the 25 most recent are all won
    assert model_active()[0] == first.version
