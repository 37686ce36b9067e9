from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .querysets import UserManager


class Role(models.TextChoices):
    REP = "rep", _("Sales rep")
    MANAGER = "manager", _("Sales manager")
    DIRECTOR = "director", _("Sales director")
    SUPPORT = "support", _("Support")
    FINANCE = "finance", _("Finance")
    ADMIN = "admin", _("Administrator")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        "accounts.User",
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.REP)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    display_name = models.CharField(_("display name"), max_length=100, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [models.Index(fields=["team", "role"], name="accounts_user_team_role_idx")]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def sees_all(self) -> bool:
        """Directors and admins see every team's records."""
        return self.role in (Role.DIRECTOR, Role.ADMIN) or self.is_superuser

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_rep(self) -> bool:
        return self.role == Role.REP

    @property
    def is_support(self) -> bool:
        return self.role == Role.SUPPORT

    @property
    def is_finance(self) -> bool:
        return self.role == Role.FINANCE

    @property
    def manages_leads(self) -> bool:
        """Managers, directors and admins may skip stages, move back, assign and hand over."""
        return self.role in (Role.MANAGER, Role.DIRECTOR, Role.ADMIN) or self.is_superuser

    @property
    def works_leads(self) -> bool:
        """Reps, managers, directors and admins work the funnel; finance and support do not own leads."""
        return self.role in (Role.REP, Role.MANAGER, Role.DIRECTOR, Role.ADMIN) or self.is_superuser


class ApiToken(models.Model):
    """A personal token for scripts (`Authorization: Token <key>`); only its hash is stored."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class IntakeKey(models.Model):
    """A web form's key for the intake endpoint; only its hash is stored."""

    class Assignment(models.TextChoices):
        POOL = "pool", _("To the pool")
        ROUND_ROBIN = "round_robin", _("Round-robin within the team")
        RULES = "rules", _("By city or source rules")

    name = models.CharField(_("name"), max_length=100, unique=True)
    prefix = models.CharField(max_length=12, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    source = models.CharField(_("lead source"), max_length=30, default="web_form")
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="intake_keys"
    )
    assignment = models.CharField(_("assignment"), max_length=20, choices=Assignment.choices, default=Assignment.POOL)
    # {"city": {"苏州": "rep3"}, "source": {"exhibition": "rep5"}}: usernames by value; first match wins.
    rules = models.JSONField(_("assignment rules"), default=dict, blank=True)
    allowed_origins = models.JSONField(_("allowed origins"), default=list, blank=True)
    redirect_url = models.URLField(_("redirect after a form post"), blank=True)
    rate_per_minute = models.PositiveIntegerField(_("requests per minute"), default=60)
    daily_cap = models.PositiveIntegerField(_("leads per day before review"), null=True, blank=True)
    round_robin_cursor = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("intake key")
        verbose_name_plural = _("intake keys")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEvent(models.Model):
    """One security-relevant thing that happened: who, when, from where, to what, before and after."""

    class Action(models.TextChoices):
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Failed login")
        ACCESS_DENIED = "access_denied", _("Refused access")
        OWNER_CHANGE = "owner_change", _("Owner changed")
        STAGE_CHANGE = "stage_change", _("Stage changed")
        MONEY_CHANGE = "money_change", _("Money changed")
        EXPORT = "export", _("Export")
        IMPORT = "import", _("Import")
        ROLE_CHANGE = "role_change", _("Role or team changed")
        KEY_CHANGE = "key_change", _("Key or token changed")

    actor = models.ForeignKey(
        User, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices, db_index=True)
    object_type = models.CharField(_("object type"), max_length=50, blank=True)
    object_id = models.CharField(_("object"), max_length=50, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="accounts_audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_type}:{self.object_id}"
