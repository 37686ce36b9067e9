from django.db import models
from django.utils.translation import gettext_lazy as _


class IntakeSubmission(models.Model):
    """One post to the web-to-lead endpoint, kept for idempotent retries, review of parked posts and audit."""

    class Status(models.TextChoices):
        CREATED = "created", _("Created a lead")
        DUPLICATE = "duplicate", _("Matched an existing lead")
        PARKED = "parked", _("Parked over the daily cap")
        SPAM = "spam", _("Marked as spam")

    key = models.ForeignKey(
        "accounts.IntakeKey", verbose_name=_("intake key"), on_delete=models.PROTECT, related_name="submissions"
    )
    idempotency_key = models.CharField(max_length=200, blank=True)
    body_hash = models.CharField(max_length=64)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    status_code = models.PositiveSmallIntegerField(default=201)
    lead = models.ForeignKey(
        "crm.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="intake_submissions",
    )
    created_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("web form submission")
        verbose_name_plural = _("web form submissions")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="funnel_intakesubmission_idempotent",
                violation_error_message=_("This Idempotency-Key was already used."),
            )
        ]
        indexes = [models.Index(fields=["key", "created_at"], name="funnel_intake_key_day_idx")]

    def __str__(self) -> str:
        return f"{self.key_id}:{self.status} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def response(self) -> dict:
        """Return the JSON body this submission answered with, so a retry gets the same."""
        body = {"status": self.status}
        if self.lead_id is not None:
            body["id"] = self.lead_id
        return body


class Webhook(models.Model):
    """An outside system told about funnel events by signed HTTP posts."""

    class Event(models.TextChoices):
        LEAD_CREATED = "lead.created", _("Lead created")
        STAGE_CHANGED = "lead.stage_changed", _("Stage changed")
        WON = "lead.won", _("Lead won (signed)")
        LOST = "lead.lost", _("Lead lost (abandoned)")
        PAYMENT_CONFIRMED = "payment.confirmed", _("Payment confirmed")

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one webhook, with what the other side answered."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    webhook = models.ForeignKey(Webhook, verbose_name=_("webhook"), on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=40, choices=Webhook.Event.choices)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["webhook", "-created_at"], name="funnel_delivery_hook_idx")]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id} ({self.status})"


class ImportBatch(models.Model):
    """An uploaded list on its way in: parsed rows, the column mapping, the check, then one all-or-nothing commit."""

    class Kind(models.TextChoices):
        RESOURCES = "resources", _("Raw resources (new leads at 资源)")
        PIPELINE = "pipeline", _("A pipeline from another CRM (stages, owners, outcomes)")

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        CHECKED = "checked", _("Checked")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    created_by = models.ForeignKey(
        "accounts.User", verbose_name=_("uploaded by"), on_delete=models.CASCADE, related_name="imports"
    )
    filename = models.CharField(_("file"), max_length=200)
    header = models.JSONField(default=list)
    rows = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    errors = models.JSONField(default=list)
    duplicates = models.JSONField(default=list)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.UPLOADED)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename


class Verdict(models.Model):
    """A manager's decision on a lead with no progress for 30 days (the "30" of 1/15/30)."""

    class Decision(models.TextChoices):
        PUSH_ON = "push_on", _("Push on")
        LOWER_EFFORT = "lower_effort", _("Lower the effort")
        ABANDON = "abandon", _("Abandon")

    lead = models.ForeignKey("crm.Lead", verbose_name=_("lead"), on_delete=models.CASCADE, related_name="verdicts")
    manager = models.ForeignKey(
        "accounts.User", verbose_name=_("manager"), on_delete=models.PROTECT, related_name="verdicts_given"
    )
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        verbose_name = _("verdict")
        verbose_name_plural = _("verdicts")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["lead", "-created_at"], name="funnel_verdict_lead_idx")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} #{self.lead_id}"


class ReviewAgenda(models.Model):
    """A team's agenda for the weekly review, built by the Monday job: per rep, every open lead."""

    team = models.ForeignKey("accounts.Team", verbose_name=_("team"), on_delete=models.CASCADE, related_name="agendas")
    week_start = models.DateField(_("week of"))
    items = models.JSONField(_("items"), default=list)
    built_at = models.DateTimeField(_("built at"), auto_now=True)

    class Meta:
        verbose_name = _("review agenda")
        verbose_name_plural = _("review agendas")
        ordering = ["-week_start", "team_id"]
        constraints = [models.UniqueConstraint(fields=["team", "week_start"], name="funnel_reviewagenda_one_per_week")]

    def __str__(self) -> str:
        return f"{self.team} {self.week_start}"


class RepStageRollup(models.Model):
    """Each rep's open leads per stage as of the last rollup: the company-wide pages read these, not a million leads."""

    # rep is null on the company-wide rows (medians cannot be added up from the reps' medians).
    rep = models.ForeignKey(
        "accounts.User", verbose_name=_("rep"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stage = models.CharField(_("stage"), max_length=20)
    open_count = models.PositiveIntegerField(default=0)
    reached = models.PositiveIntegerField(default=0)  # of the leads created in the cohort window
    forecast_this_month = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    forecast_next_month = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    median_days = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    followup_overdue = models.PositiveIntegerField(default=0)
    verdict_due = models.PositiveIntegerField(default=0)
    built_at = models.DateTimeField(_("built at"))

    class Meta:
        verbose_name = _("funnel rollup")
        verbose_name_plural = _("funnel rollups")
        constraints = [
            models.UniqueConstraint(fields=["rep", "stage"], name="funnel_repstagerollup_one"),
            models.UniqueConstraint(
                fields=["stage"], condition=models.Q(rep__isnull=True), name="funnel_repstagerollup_company_one"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rep_id}:{self.stage}"


class WeeklySnapshot(models.Model):
    """One rep's funnel as it stood at the end of a week, kept so week-over-week history stays exact."""

    week_start = models.DateField(_("week of"))
    rep = models.ForeignKey("accounts.User", verbose_name=_("rep"), on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stage_counts = models.JSONField(_("open leads per stage"), default=dict)
    new_leads = models.PositiveIntegerField(_("new leads"), default=0)
    signings = models.PositiveIntegerField(_("signings"), default=0)
    signed_amount = models.DecimalField(_("signed amount"), max_digits=16, decimal_places=2, default=0)
    abandoned = models.PositiveIntegerField(_("abandoned"), default=0)
    taken_at = models.DateTimeField(_("taken at"))

    class Meta:
        verbose_name = _("weekly snapshot")
        verbose_name_plural = _("weekly snapshots")
        ordering = ["-week_start", "rep_id"]
        constraints = [models.UniqueConstraint(fields=["week_start", "rep"], name="funnel_weeklysnapshot_one")]
        indexes = [models.Index(fields=["team", "week_start"], name="funnel_snapshot_team_week_idx")]

    def __str__(self) -> str:
        return f"{self.rep_id} {self.week_start}"


class Target(models.Model):
    """A SMART target for a rep or a team over a period: signings, amount, collection."""

    rep = models.ForeignKey(
        "accounts.User", verbose_name=_("rep"), null=True, blank=True, on_delete=models.CASCADE, related_name="targets"
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE, related_name="targets"
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    signings = models.PositiveIntegerField(_("signings"), default=0)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, default=0)
    collection = models.DecimalField(_("collection"), max_digits=16, decimal_places=2, default=0)
    set_by = models.ForeignKey(
        "accounts.User", verbose_name=_("set by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["-period_start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rep__isnull=False, team__isnull=True)
                | models.Q(rep__isnull=True, team__isnull=False),
                name="funnel_target_rep_or_team",
                violation_error_message=_("A target is for one rep or one team."),
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="funnel_target_period_order",
                violation_error_message=_("The period must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rep or self.team} {self.period_start}–{self.period_end}"


class ReviewComment(models.Model):
    """A manager's note on a lead during the weekly review."""

    lead = models.ForeignKey(
        "crm.Lead", verbose_name=_("lead"), on_delete=models.CASCADE, related_name="review_comments"
    )
    manager = models.ForeignKey("accounts.User", verbose_name=_("manager"), on_delete=models.PROTECT, related_name="+")
    week_start = models.DateField(_("week of"))
    text = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("review comment")
        verbose_name_plural = _("review comments")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.lead_id} {self.week_start}"
