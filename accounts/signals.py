from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from .audit import audit
from .middleware import touch_session
from .models import AuditEvent, User


@receiver(user_logged_in)
def start_idle_clock(sender, request, user, **kwargs) -> None:
    """Start the idle clock at login so the first page needs no extra session write."""
    if request is not None and hasattr(request, "session"):
        touch_session(request.session)


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs) -> None:
    audit(actor=user, action=AuditEvent.Action.LOGIN, obj=user)


@receiver(user_login_failed)
def audit_failed_login(sender, credentials, request=None, **kwargs) -> None:
    """Keep the name that was tried; the password never reaches the trail."""
    username = str(credentials.get("username", ""))[:50]
    audit(actor=None, action=AuditEvent.Action.LOGIN_FAILED, object_type="accounts.user", object_id=username)


ROLE_FIELDS = ("role", "team_id", "is_active", "is_staff", "is_superuser")


@receiver(pre_save, sender=User)
def remember_role(sender, instance: User, update_fields=None, **kwargs) -> None:
    # A save of other fields only (last_login at every login) cannot change a role: no lookup.
    touches_role = update_fields is None or {f.removesuffix("_id") for f in ROLE_FIELDS} & set(update_fields)
    instance._role_before = (
        User.objects.filter(pk=instance.pk).values(*ROLE_FIELDS).first() if instance.pk and touches_role else None
    )


@receiver(post_save, sender=User)
def audit_role_change(sender, instance: User, created: bool, **kwargs) -> None:
    before = getattr(instance, "_role_before", None)
    after = {field: getattr(instance, field) for field in ROLE_FIELDS}
    if created or (before is not None and before != after):
        audit(actor=None, action=AuditEvent.Action.ROLE_CHANGE, obj=instance, before=before, after=after)
