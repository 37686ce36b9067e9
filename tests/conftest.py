"""Personas shared by the whole suite: two reps in one team, their manager, another team's rep, and the rest."""

import pytest

from accounts.models import Role

from .factories import TeamFactory, UserFactory


@pytest.fixture
def team(db):
    return TeamFactory(name="华东一组")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="华南二组")


@pytest.fixture
def manager(team):
    user = UserFactory(username="manager", role=Role.MANAGER, team=team)
    team.manager = user
    team.save(update_fields=["manager"])
    return user


@pytest.fixture
def rep(team):
    return UserFactory(username="rep", role=Role.REP, team=team)


@pytest.fixture
def teammate(team):
    return UserFactory(username="teammate", role=Role.REP, team=team)


@pytest.fixture
def outsider(other_team):
    """A rep of another team."""
    return UserFactory(username="outsider", role=Role.REP, team=other_team)


@pytest.fixture
def other_manager(other_team):
    user = UserFactory(username="other_manager", role=Role.MANAGER, team=other_team)
    other_team.manager = user
    other_team.save(update_fields=["manager"])
    return user


@pytest.fixture
def director(db):
    return UserFactory(username="director", role=Role.DIRECTOR)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def support(db):
    return UserFactory(username="support", role=Role.SUPPORT)


@pytest.fixture
def finance(db):
    return UserFactory(username="finance", role=Role.FINANCE)


@pytest.fixture(scope="session", autouse=True)
def _release_test_database(django_db_setup, django_db_blocker):
    """Close connections the live server's request threads left open, so the test database can be dropped."""
    yield
    with django_db_blocker.unblock():
        from django.db import connection

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start every test with empty caches: login lockouts, rate limits and remembered rows must not leak."""
    from django.core.cache import cache

    from accounts.memo import forget_all

    cache.clear()
    forget_all()
    yield
    cache.clear()
    forget_all()
