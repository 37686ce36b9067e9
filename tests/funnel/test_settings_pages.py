import pytest
from django.urls import reverse

from accounts.models import ApiToken, IntakeKey
from accounts.services import intake_key_create


def test_a_user_creates_a_token_sees_it_once_and_revokes_it(client, rep):
    client.force_login(rep)
    response = client.post(reverse("accounts:tokens"), {"name": "报表脚本"})
    secret = response.context["secret"]
    assert secret.startswith("crm_tok_") and secret in response.content.decode()
    assert secret not in client.get(reverse("accounts:tokens")).content.decode()
    token = ApiToken.objects.get(user=rep)
    client.post(reverse("accounts:token-revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_nobody_revokes_someone_elses_token(client, rep, teammate):
    client.force_login(rep)
    client.post(reverse("accounts:tokens"), {"name": "x"})
    token = ApiToken.objects.get()
    client.force_login(teammate)
    assert client.post(reverse("accounts:token-revoke", args=[token.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["rep", "manager", "director", "support", "finance"])
def test_only_admins_manage_web_form_keys(persona, client, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("funnel:intake-keys")).status_code == 404
    assert client.post(reverse("funnel:intake-keys"), {"name": "x"}).status_code == 404


def test_an_admin_creates_a_key_and_gets_a_ready_form(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("funnel:intake-keys"),
        {
            "name": "官网表单",
            "source": "web_form",
            "assignment": "pool",
            "rate_per_minute": 60,
            "allowed_origins": "https://www.example.com",
        },
    )
    body = response.content.decode()
    secret = response.context["created"]["secret"]
    assert f'name="api_key" value="{secret}"' in body.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    assert "/api/v1/intake/leads/" in body
    assert IntakeKey.objects.get().allowed_origins == ["https://www.example.com"]


def test_a_bad_key_form_shows_field_errors_and_saves_nothing(client, admin_user):
    intake_key_create(name="官网表单")
    client.force_login(admin_user)
    response = client.post(
        reverse("funnel:intake-keys"),
        {
            "name": "官网表单",
            "source": "web_form",
            "assignment": "round_robin",
            "rate_per_minute": 0,
            "allowed_origins": "not an origin",
        },
    )
    errors = response.context["form"].errors
    assert {"rate_per_minute", "allowed_origins"} <= set(errors)
    assert IntakeKey.objects.count() == 1


def test_an_admin_revokes_a_key(client, admin_user):
    key, _secret = intake_key_create(name="旧表单")
    client.force_login(admin_user)
    client.post(reverse("funnel:intake-key-revoke", args=[key.pk]))
    key.refresh_from_db()
    assert key.revoked_at is not None
