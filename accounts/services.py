from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import keys
from .audit import audit
from .memo import TableMemo
from .models import ApiToken, AuditEvent, IntakeKey, Team


@transaction.atomic
def token_create(*, user, name: str = "") -> tuple[ApiToken, str]:
    """Create a personal API token; return it with its secret, which is shown once and never stored."""
    secret = keys.new_secret("tok")
    token = ApiToken.objects.create(
        user=user, name=name.strip(), prefix=keys.prefix_of(secret), key_hash=keys.hash_of(secret)
    )
    audit(actor=user, action=AuditEvent.Action.KEY_CHANGE, obj=token, after={"created": token.prefix})
    return token, secret


def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token; requests carrying it are refused from now on."""
    if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        audit(actor=token.user, action=AuditEvent.Action.KEY_CHANGE, obj=token, after={"revoked": token.prefix})
    token.refresh_from_db()
    return token


def token_user(*, secret: str):
    """Return the active user of a live token, or None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(prefix=keys.prefix_of(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None or not keys.matches(secret, token.key_hash):
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # at most one write per 5 minutes
    return token.user


@transaction.atomic
def intake_key_create(
    *,
    name: str,
    source: str = "web_form",
    team: Team | None = None,
    assignment: str = IntakeKey.Assignment.POOL,
    allowed_origins: list[str] | None = None,
    actor=None,
    **options,
) -> tuple[IntakeKey, str]:
    """Create a web form's intake key; return it with its secret, shown once."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the key a name.")})
    if IntakeKey.objects.filter(name=name).exists():
        raise ValidationError({"name": _("A key with this name already exists.")})
    if assignment == IntakeKey.Assignment.ROUND_ROBIN and team is None:
        raise ValidationError({"team": _("Round-robin needs a team.")})
    secret = keys.new_secret("key")
    key = IntakeKey(
        name=name,
        source=source,
        team=team,
        assignment=assignment,
        allowed_origins=allowed_origins or [],
        prefix=keys.prefix_of(secret),
        key_hash=keys.hash_of(secret),
        **options,
    )
    key.full_clean()
    key.save()
    audit(actor=actor, action=AuditEvent.Action.KEY_CHANGE, obj=key, after={"created": key.name})
    return key, secret


_live_keys = TableMemo(IntakeKey)  # by prefix; intake_key_for reads it on every web-to-lead post


def intake_key_revoke(*, key: IntakeKey, actor=None) -> IntakeKey:
    """Revoke an intake key; its form is refused from now on (by other web workers within MEMO_SECONDS)."""
    if IntakeKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        audit(actor=actor, action=AuditEvent.Action.KEY_CHANGE, obj=key, after={"revoked": key.name})
    _live_keys.forget()
    key.refresh_from_db()
    return key


def intake_key_for(*, secret: str) -> IntakeKey | None:
    """Return the live intake key with this secret, or None."""
    prefix = keys.prefix_of(secret)
    key = _live_keys.get(
        prefix,
        lambda: IntakeKey.objects.select_related("team").filter(prefix=prefix, revoked_at__isnull=True).first(),
    )
    return key if key is not None and keys.matches(secret, key.key_hash) else None
