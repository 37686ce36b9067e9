import io

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Max, OuterRef, Subquery, Sum
from django.utils import timezone

from accounts.models import Role, Team, User
from crm.choices import OPEN_STAGES, Stage
from crm.models import Contact, Contract, Customer, Installment, Lead, Payment, StageChange, Visit
from funnel.demo import DEMO_PASSWORD

LEADS = 300


@pytest.fixture
def seeded(db, settings):
    """Seed a small demo once; MD5 keeps 27 password checks fast under the production settings."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = io.StringIO()
    call_command("seed_demo", leads=LEADS, stdout=out)
    return out.getvalue()


def _row_counts() -> dict[str, int]:
    models = (User, Team, Customer, Contact, Lead, StageChange, Visit, Contract, Installment, Payment)
    return {model.__name__: model.objects.count() for model in models}


def _stage_counts() -> dict[str, int]:
    return dict(Lead.objects.order_by().values_list("stage").annotate(n=Count("pk")))


def test_seed_demo_creates_users_by_role_with_the_demo_password(seeded):
    users = User.objects.all()
    by_role = {role: users.filter(role=role).count() for role in Role.values}
    assert by_role == {"admin": 1, "director": 1, "manager": 3, "rep": 20, "support": 1, "finance": 1}
    admin = users.get(username="admin")
    assert admin.role == Role.ADMIN and admin.is_staff and admin.is_superuser
    assert all(user.check_password(DEMO_PASSWORD) for user in users)
    assert all(2 <= len(user.display_name) <= 3 for user in users)  # Chinese names such as 张伟
    assert users.values("display_name").distinct().count() == users.count()
    assert "crm-demo-2026" in seeded and "rep20" in seeded


def test_seed_demo_gives_each_manager_a_team_they_belong_to_and_spreads_reps(seeded):
    teams = Team.objects.all()
    assert teams.count() == 3
    for team in teams:
        assert team.manager.role == Role.MANAGER
        assert team.manager.team_id == team.pk
    reps = User.objects.filter(role=Role.REP)
    assert not reps.filter(team__isnull=True).exists()
    per_team = reps.order_by().values("team").annotate(n=Count("pk")).values_list("n", flat=True)
    assert sorted(per_team) == [6, 7, 7]


def test_seed_demo_history_ends_in_each_leads_stage(seeded):
    assert Lead.objects.count() == LEADS
    assert not Lead.objects.filter(stage_changes__isnull=True).exists()
    latest = StageChange.objects.filter(lead=OuterRef("pk")).order_by("-changed_at", "-pk").values("to_stage")[:1]
    assert not Lead.objects.annotate(latest=Subquery(latest)).exclude(latest=F("stage")).exists()
    assert not StageChange.objects.filter(from_stage="").exclude(to_stage=Stage.RESOURCE).exists()


def test_seed_demo_stages_roughly_follow_the_reach_shares(seeded):
    counts = _stage_counts()
    won = counts.get(Stage.SIGNED, 0) + counts.get(Stage.IMPLEMENTED, 0)
    assert 0.05 * LEADS <= won <= 0.20 * LEADS
    assert all(counts.get(stage, 0) > 0 for stage in OPEN_STAGES)
    assert counts.get(Stage.ABANDONED, 0) > 0
    assert counts[Stage.CONTACTED] > counts[Stage.SIGNED]


def test_seed_demo_puts_nothing_in_the_future(seeded):
    now = timezone.now()
    stamps = {
        Lead: ("created_at", "stage_entered_at", "last_activity_at", "last_progress_at", "closed_at", "updated_at"),
        StageChange: ("changed_at",),
        Visit: ("occurred_at", "created_at"),
        Customer: ("created_at",),
    }
    for model, fields in stamps.items():
        latest = model.objects.aggregate(**{name: Max(name) for name in fields})
        assert all(value is None or value <= now for value in latest.values()), (model.__name__, latest)


def test_seed_demo_has_pool_abandoned_and_overdue_leads(seeded):
    assert Lead.objects.filter(owner__isnull=True).exists()
    assert (
        not Lead.objects.filter(owner__isnull=True)
        .exclude(stage__in=(Stage.RESOURCE, Stage.GRADED, Stage.ABANDONED))
        .exists()
    )
    abandoned = Lead.objects.filter(stage=Stage.ABANDONED)
    assert abandoned.exists()
    assert not abandoned.filter(lost_reason="").exists()
    assert not abandoned.filter(closed_at__isnull=True).exists()
    assert Lead.objects.filter(is_followup_overdue=True).exists()


def test_seed_demo_visits_are_logged_by_the_lead_owner(seeded):
    assert Visit.objects.exists()
    assert not Visit.objects.exclude(author_id=F("lead__owner_id")).exists()
    assert not Lead.objects.filter(owner__isnull=True, visits__isnull=False).exists()


def test_seed_demo_signed_leads_have_contracts_that_add_up(seeded):
    signed = Lead.objects.filter(stage__in=(Stage.SIGNED, Stage.IMPLEMENTED))
    assert signed.exists() and not signed.filter(signed_amount__isnull=True).exists()  # 签约 needs amount and date
    assert Contract.objects.count() == signed.count()
    for contract in Contract.objects.select_related("lead").annotate(
        planned=Sum("installments__amount"), paid=Sum("installments__paid_amount")
    ):
        assert contract.planned == contract.amount == contract.lead.signed_amount
        assert contract.paid == contract.paid_amount
        if contract.lead.stage == Stage.IMPLEMENTED:
            assert contract.paid_amount == contract.amount  # 实施 only when fully paid
    today = timezone.localdate()
    assert Installment.objects.filter(due_on__lt=today, paid_on__isnull=True).exists()  # something to chase
    assert Payment.objects.filter(status=Payment.Status.RECORDED).exists()  # something for finance to confirm


def test_seed_demo_second_run_adds_nothing(seeded):
    before = _row_counts()
    out = io.StringIO()
    call_command("seed_demo", leads=LEADS, stdout=out)
    assert _row_counts() == before
    assert "already present" in out.getvalue()


def test_seed_demo_reset_rebuilds_the_same_dataset(seeded):
    before, stages = _row_counts(), _stage_counts()
    call_command("seed_demo", leads=LEADS, reset=True, stdout=io.StringIO())
    assert _row_counts() == before
    assert _stage_counts() == stages
