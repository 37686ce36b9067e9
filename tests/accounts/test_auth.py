import subprocess
import sys
import time

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.middleware import SESSION_TOUCH_KEY

PASSWORD = "correct-horse-battery"


def test_login_with_the_form_lands_on_my_work(client, rep):
    response = client.post(reverse("accounts:login"), {"username": "rep", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("funnel:my-work")


def test_wrong_password_shows_the_error_in_chinese(client, rep):
    response = client.post(reverse("accounts:login"), {"username": "rep", "password": "nope-nope-nope"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_english_switch_translates_the_page(client, rep):
    client.force_login(rep)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "My work" in client.get(reverse("funnel:my-work")).content.decode()


def test_logout_is_a_post_and_ends_the_session(client, rep):
    client.force_login(rep)
    client.post(reverse("accounts:logout"))
    assert SESSION_KEY not in client.session
    assert client.get(reverse("funnel:my-work")).status_code == 302


def test_password_change_ends_other_sessions(client, rep, django_user_model):
    other = type(client)()
    other.force_login(rep)
    client.force_login(rep)
    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-better-secret-42",
            "new_password2": "a-much-better-secret-42",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("funnel:my-work")).status_code == 200
    assert other.get(reverse("funnel:my-work")).status_code == 302


def test_password_change_refuses_short_and_common_passwords(client, rep):
    client.force_login(rep)
    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": PASSWORD, "new_password1": "password", "new_password2": "password"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "密码长度太短" in body and "太常见" in body


def test_idle_session_expires_and_activity_keeps_it_alive(client, rep):
    with time_machine.travel(time.time(), tick=False) as traveller:
        client.force_login(rep)
        assert client.get(reverse("funnel:my-work")).status_code == 200
        traveller.shift(settings.SESSION_COOKIE_AGE - 600)
        assert client.get(reverse("funnel:my-work")).status_code == 200  # activity restarts the clock
        traveller.shift(settings.SESSION_COOKIE_AGE - 600)
        assert client.get(reverse("funnel:my-work")).status_code == 200
        traveller.shift(settings.SESSION_COOKIE_AGE + 1)
        assert client.get(reverse("funnel:my-work")).status_code == 302


def test_session_is_not_rewritten_on_every_page(client, rep):
    client.force_login(rep)
    touched = client.session[SESSION_TOUCH_KEY]
    client.get(reverse("funnel:my-work"))
    assert client.session[SESSION_TOUCH_KEY] == touched


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_secrets(missing):
    env = {"DEBUG": "0", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "crm.example.com", "PATH": "/usr/bin:/bin"}
    del env[missing]
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup()",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DEBUG=0 needs SECRET_KEY and ALLOWED_HOSTS" in result.stderr


def test_chinese_is_the_default_even_for_an_english_browser(client, rep):
    client.force_login(rep)
    body = client.get(reverse("funnel:my-work"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "我的工作" in body and "My work" not in body


def test_repeated_failures_lock_the_account_with_a_clear_page(client, rep):
    for _ in range(5):
        client.post(reverse("accounts:login"), {"username": "rep", "password": "wrong-password-1"})
    response = client.post(reverse("accounts:login"), {"username": "rep", "password": PASSWORD})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_failures_from_one_address_lock_it_for_every_account(client, rep, teammate):
    for i in range(5):
        client.post(reverse("accounts:login"), {"username": f"nobody{i}", "password": "x"})
    response = client.post(reverse("accounts:login"), {"username": "teammate", "password": PASSWORD})
    assert response.status_code == 429


def test_unknown_and_known_users_get_the_same_answer(client, rep):
    known = client.post(reverse("accounts:login"), {"username": "rep", "password": "wrong-password-1"})
    unknown = client.post(reverse("accounts:login"), {"username": "ghost", "password": "wrong-password-1"})
    assert known.status_code == unknown.status_code == 200
    assert known.context["form"].errors == unknown.context["form"].errors


def test_pages_send_a_strict_content_security_policy(client, rep):
    client.force_login(rep)
    policy = client.get(reverse("funnel:my-work"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy


def test_no_template_carries_an_inline_script(settings):
    from pathlib import Path

    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = path.read_text()
        assert "<script>" not in text and " onclick=" not in text and " onchange=" not in text, path
