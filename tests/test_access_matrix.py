"""Every route that takes an object id, on every verb, tried by people who must not reach the object.

The outsider (a rep of another team) and the other team's manager try rep's objects; each answer
must be 404 (or 405 for a verb the route does not have), and nothing may change. A new route
with an id fails this test until it is listed here, so the matrix stays complete.
"""

import datetime

import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone

from accounts.services import intake_key_create, token_create
from crm.choices import Stage
from funnel.models import ImportBatch, ReviewAgenda, Target, WebhookDelivery
from funnel.webhooks import webhook_create
from scoring.models import ScoreRule
from tests.factories import ContactFactory, LeadFactory, StageChangeFactory, UserFactory, VisitFactory
from tests.receivables.factories import InstallmentFactory, PaymentFactory, ReminderFactory

VERBS = ("get", "post", "put", "patch", "delete")


def _lead(rep):
    lead = LeadFactory(owner=rep, stage=Stage.LEAD, is_verdict_due=True)
    VisitFactory(lead=lead)
    StageChangeFactory(lead=lead)
    return lead


def _token(rep):
    return token_create(user=rep)[0]


def _delivery(rep):
    hook = webhook_create(name="hook", url="https://93.184.216.34/hook", events=["lead.created"])
    return WebhookDelivery.objects.create(webhook=hook, event="lead.created", payload={})


def _installment(rep):
    return InstallmentFactory(contract__owner=rep, due_on=timezone.localdate() - datetime.timedelta(days=40))


def _contract(rep):
    return _installment(rep).contract


def _payment(rep):
    return PaymentFactory(installment=_installment(rep))


def _rule(rep):
    return ScoreRule.objects.create(name="r", criterion="grade", operator="eq", value="A", points=5)


OBJECTS = {
    "scoring:risk-assess": _lead,
    "scoring:rule-edit": _rule,
    "scoring:rule-toggle": _rule,
    "funnel:contract-detail": _contract,
    "funnel:contract-plan": _contract,
    "funnel:contract-approve": _contract,
    "funnel:contract-cancel": _contract,
    "funnel:contract-rate": _contract,
    "funnel:contract-collection": _contract,
    "funnel:payment-new": _contract,
    "funnel:payment-confirm": _payment,
    "funnel:payment-reject": _payment,
    "funnel:reminder-new": _installment,
    "funnel:reminder-answer": lambda rep: ReminderFactory(installment=_installment(rep)),
    "funnel:customer-receivables": lambda rep: _contract(rep).lead.customer,
    "funnel:customer-credit-limit": lambda rep: _contract(rep).lead.customer,
    "api:contract-detail": _contract,
    "api:installment-detail": _installment,
    "api:payment-detail": _payment,
    "api:payment-confirm": _payment,
    "api:payment-reject": _payment,
    "funnel:lead-detail": _lead,
    "funnel:lead-edit": _lead,
    "funnel:visit-new": _lead,
    "funnel:lead-move": _lead,
    "funnel:contact-new": _lead,
    "funnel:lead-verdict": _lead,
    "funnel:lead-release": _lead,
    "funnel:lead-assign": _lead,
    "funnel:lead-claim": _lead,
    "funnel:import-detail": lambda rep: ImportBatch.objects.create(kind="resources", created_by=rep, filename="x"),
    "funnel:import-start": lambda rep: ImportBatch.objects.create(kind="resources", created_by=rep, filename="x"),
    "funnel:import-progress": lambda rep: ImportBatch.objects.create(kind="resources", created_by=rep, filename="x"),
    "funnel:target-delete": lambda rep: Target.objects.create(
        rep=rep, period_start="2026-11-01", period_end="2026-11-30", signings=1
    ),
    "funnel:intake-key-revoke": lambda rep: intake_key_create(name="k")[0],
    "funnel:webhook-toggle": lambda rep: webhook_create(name="h", url="https://93.184.216.34/", events=["lead.won"]),
    "funnel:webhook-replay": _delivery,
    "accounts:token-revoke": _token,
    "api:lead-detail": _lead,
    "api:lead-assign": _lead,
    "api:lead-claim": _lead,
    "api:lead-release": _lead,
    "api:lead-transition": _lead,
    "api:lead-verdict": _lead,
    "api:visit-detail": lambda rep: _lead(rep).visits.get(),
    "api:stage-change-detail": lambda rep: _lead(rep).stage_changes.get(),
    "api:customer-detail": lambda rep: _lead(rep).customer,
    "api:contact-detail": lambda rep: ContactFactory(customer=_lead(rep).customer),
    "api:token-revoke": _token,
    # Directory entries: teams and users of one's own organisation are listed to everyone who
    # works with them; another team's are 404.
    "api:user-detail": lambda rep: rep,
    "api:team-detail": lambda rep: rep.team,
    "api:review-agenda-detail": lambda rep: ReviewAgenda.objects.create(team=rep.team, week_start="2026-11-23"),
}


def _routes_with_ids() -> list[str]:
    names = []

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif "pk" in str(pattern.pattern) and pattern.name:
                names.append(f"{namespace}:{pattern.name}")

    walk(get_resolver().url_patterns)
    return sorted(set(names))


def test_every_route_with_an_id_is_in_the_matrix():
    assert [name for name in _routes_with_ids() if name not in OBJECTS] == []


@pytest.mark.parametrize("route", sorted(OBJECTS))
@pytest.mark.parametrize("attacker", ["outsider", "other_manager"])
def test_nobody_reaches_another_teams_object(route, attacker, client, rep, manager, request, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    obj = OBJECTS[route](rep)
    before = repr(type(obj).objects.filter(pk=obj.pk).values().first())
    client.force_login(request.getfixturevalue(attacker))
    url = reverse(route, args=[obj.pk])
    for verb in VERBS:
        response = getattr(client, verb)(url, data={}, content_type="application/json")
        assert response.status_code in (404, 405), f"{verb.upper()} {url} as {attacker}: {response.status_code}"
    assert repr(type(obj).objects.filter(pk=obj.pk).values().first()) == before


def test_the_matrix_size(request):
    """Report routes × verbs × attackers tried (the note quotes it)."""
    tried = len(OBJECTS) * len(VERBS) * 2
    assert tried >= 300


@pytest.mark.parametrize("persona", ["rep", "manager", "support", "finance", "director"])
def test_the_admin_site_is_for_admins_only(persona, client, request):
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_id_inside_a_body_cannot_reach_another_team(client, rep, outsider):
    """Posting a visit onto another team's lead through the API body is a 404, and writes nothing."""
    from rest_framework.test import APIClient

    theirs = _lead(outsider)
    api = APIClient()
    api.force_authenticate(rep)
    response = api.post("/api/v1/visits/", {"lead": theirs.pk, "kind": "call", "outcome": "no_sale", "summary": "x"})
    assert response.status_code == 404 and theirs.visits.count() == 1


def test_a_new_user_of_another_team_is_invisible(client, rep, other_team):
    stranger = UserFactory(team=other_team)
    client.force_login(rep)
    assert client.get(reverse("api:user-detail", args=[stranger.pk])).status_code == 404
