from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models


class UserQuerySet(models.QuerySet):
    def active(self) -> "UserQuerySet":
        """Return users who can still log in."""
        return self.filter(is_active=True)

    def sales(self) -> "UserQuerySet":
        """Return users who own leads: reps and managers."""
        return self.filter(role__in=["rep", "manager"])

    def visible_to(self, user) -> "UserQuerySet":
        """Return users whose names and funnels the user may see: all for directors, the team otherwise."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_all or user.role in ("finance", "support"):
            return self
        if user.team_id is None:
            return self.filter(pk=user.pk)
        return self.filter(team_id=user.team_id)


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):
    pass
