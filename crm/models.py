from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import normalize
from .choices import (
    BusinessStatus,
    BuyingRole,
    CompanySize,
    Confidence,
    Credit,
    Grade,
    LostReason,
    Source,
    Stage,
    Tier,
    VisitKind,
    VisitOutcome,
)
from .querysets import (
    CollectionTargetQuerySet,
    ContactQuerySet,
    ContractQuerySet,
    CustomerAccountQuerySet,
    CustomerQuerySet,
    InstallmentQuerySet,
    LeadQuerySet,
    MoneyChangeQuerySet,
    OwnerChangeQuerySet,
    PaymentQuerySet,
    ReminderQuerySet,
    StageChangeQuerySet,
    VisitQuerySet,
)

MONEY = {"max_digits": 14, "decimal_places": 2}


class Customer(models.Model):
    """A company in the archive (客户档案); one customer has one owner at a time."""

    name = models.CharField(_("company name"), max_length=200)
    name_key = models.CharField(max_length=200, editable=False, db_index=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_key = models.CharField(max_length=40, editable=False, blank=True, db_index=True)
    email = models.EmailField(_("email"), blank=True)
    email_key = models.CharField(max_length=254, editable=False, blank=True, db_index=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    industry = models.CharField(_("industry"), max_length=50, blank=True)
    size = models.CharField(_("size"), max_length=20, choices=CompanySize.choices, blank=True)
    credit = models.CharField(_("credit"), max_length=20, choices=Credit.choices, default=Credit.UNKNOWN)
    business_status = models.CharField(
        _("business status"), max_length=20, choices=BusinessStatus.choices, default=BusinessStatus.OPERATING
    )
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, default=Tier.GENERAL)
    notes = models.TextField(_("notes"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        indexes = [models.Index(fields=["owner", "tier"], name="crm_customer_owner_tier_idx")]
        constraints = [
            # One archive per company: concurrent web forms for the same company cannot make two.
            models.UniqueConstraint(
                fields=["name_key"],
                condition=~models.Q(name_key=""),
                name="crm_customer_name_key_unique",
                violation_error_message=_("A customer with this name already exists."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = normalize.company_key(self.name)
        self.phone_key = normalize.phone_key(self.phone)
        self.email_key = normalize.email_key(self.email)
        if "update_fields" in kwargs and kwargs["update_fields"] is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_key", "phone_key", "email_key"}
        super().save(*args, **kwargs)


class Contact(models.Model):
    """A person at a customer, with the role they play in the purchase."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    role = models.CharField(_("buying role"), max_length=20, choices=BuyingRole.choices, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_key = models.CharField(max_length=40, editable=False, blank=True, db_index=True)
    email = models.EmailField(_("email"), blank=True)
    email_key = models.CharField(max_length=254, editable=False, blank=True, db_index=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["customer_id", "name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.phone_key = normalize.phone_key(self.phone)
        self.email_key = normalize.email_key(self.email)
        if "update_fields" in kwargs and kwargs["update_fields"] is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "phone_key", "email_key"}
        super().save(*args, **kwargs)


class Lead(models.Model):
    """One pursuit of one customer through the funnel; from 意向 on it is a deal (商机)."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="leads")
    title = models.CharField(_("title"), max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        db_index=False,  # (owner, stage) and (owner, updated_at) lead with it: one index less to write
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.RESOURCE)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    source = models.CharField(_("source"), max_length=30, choices=Source.choices, default=Source.OTHER)
    product = models.CharField(_("product to recommend"), max_length=100, blank=True)
    expected_amount = models.DecimalField(
        _("expected amount"), **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)

    # BANT: what we know of Budget, Authority, Need and Timeline, how sure we are, and since when.
    budget_known = models.BooleanField(_("budget known"), default=False)
    budget_amount = models.DecimalField(
        _("budget amount"), **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    budget_confidence = models.CharField(_("budget confidence"), max_length=10, choices=Confidence.choices, blank=True)
    budget_learned_on = models.DateField(_("budget learned on"), null=True, blank=True)
    authority_known = models.BooleanField(_("decision maker reached"), default=False)
    authority_note = models.CharField(_("who decides"), max_length=200, blank=True)
    authority_confidence = models.CharField(
        _("authority confidence"), max_length=10, choices=Confidence.choices, blank=True
    )
    authority_learned_on = models.DateField(_("authority learned on"), null=True, blank=True)
    need_known = models.BooleanField(_("need confirmed"), default=False)
    need_note = models.TextField(_("need"), blank=True)
    need_confidence = models.CharField(_("need confidence"), max_length=10, choices=Confidence.choices, blank=True)
    need_learned_on = models.DateField(_("need learned on"), null=True, blank=True)
    timeline_date = models.DateField(_("purchase timeline"), null=True, blank=True)
    timeline_confidence = models.CharField(
        _("timeline confidence"), max_length=10, choices=Confidence.choices, blank=True
    )
    timeline_learned_on = models.DateField(_("timeline learned on"), null=True, blank=True)

    score = models.PositiveSmallIntegerField(_("score"), default=0, validators=[MaxValueValidator(100)], editable=False)
    win_probability = models.DecimalField(
        _("win probability"), max_digits=5, decimal_places=4, null=True, blank=True, editable=False
    )
    scored_at = models.DateTimeField(_("scored at"), null=True, blank=True, editable=False)

    stage_entered_at = models.DateTimeField(_("in stage since"), default=timezone.now)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    last_progress_at = models.DateTimeField(_("last progress"), default=timezone.now)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_date = models.DateField(_("next step date"), null=True, blank=True)

    # Cadence flags (the 1/15/30 rule), kept by funnel's periodic job.
    is_followup_overdue = models.BooleanField(_("follow-up overdue"), default=False, editable=False)
    is_verdict_due = models.BooleanField(_("verdict due"), default=False, editable=False)
    is_out_of_funnel = models.BooleanField(_("signed outside the funnel"), default=False, editable=False)
    is_slow = models.BooleanField(_("slow in stage"), default=False, editable=False)

    signed_amount = models.DecimalField(
        _("contract amount"), **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0.01"))]
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)

    # What a web form or an import told us; scoring reads the attributes.
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)
    utm_source = models.CharField("utm_source", max_length=100, blank=True)
    utm_medium = models.CharField("utm_medium", max_length=100, blank=True)
    utm_campaign = models.CharField("utm_campaign", max_length=100, blank=True)

    lost_reason = models.CharField(_("lost reason"), max_length=20, choices=LostReason.choices, blank=True)
    lost_note = models.CharField(_("lost note"), max_length=300, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        db_index=False,  # read on its lead only; people are deactivated, not deleted
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["owner", "stage"], name="crm_lead_owner_stage_idx"),
            models.Index(fields=["stage", "stage_entered_at"], name="crm_lead_stage_entered_idx"),
            models.Index(fields=["owner", "-updated_at"], name="crm_lead_owner_updated_idx"),
            # The review's cohorts (a team's leads created since a day), answered from the index alone.
            models.Index(fields=["owner", "created_at"], name="crm_lead_owner_created_idx", include=["id"]),
            models.Index(
                fields=["stage", "updated_at"],
                name="crm_lead_pool_idx",
                condition=models.Q(owner__isnull=True),
            ),
            # Lead lists, newest change first: a director's whole list, and the pool's part of a rep's (crm/paging.py).
            models.Index(fields=["-updated_at", "-id"], name="crm_lead_recent_idx"),
            models.Index(
                fields=["owner"],
                name="crm_lead_flagged_idx",
                condition=models.Q(is_followup_overdue=True) | models.Q(is_verdict_due=True) | models.Q(is_slow=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__lte=100),
                name="crm_lead_score_range",
                violation_error_message=_("The score must be between 0 and 100."),
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("funnel:lead-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.stage not in (Stage.IMPLEMENTED, Stage.ABANDONED)

    @property
    def bant_completeness(self) -> int:
        """Return how many of Budget, Authority, Need and Timeline are known (0-4)."""
        return sum((self.budget_known, self.authority_known, self.need_known, self.timeline_date is not None))

    @property
    def days_in_stage(self) -> int:
        return (timezone.now() - self.stage_entered_at).days


class Visit(models.Model):
    """A logged call, visit, demo, email or meeting, with its outcome and the next step promised."""

    lead = models.ForeignKey(Lead, verbose_name=_("lead"), on_delete=models.CASCADE, related_name="visits")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("logged by"), on_delete=models.PROTECT, related_name="visits"
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="visits"
    )
    kind = models.CharField(_("type"), max_length=20, choices=VisitKind.choices, default=VisitKind.CALL)
    outcome = models.CharField(_("outcome"), max_length=20, choices=VisitOutcome.choices)
    summary = models.TextField(_("summary"))
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_date = models.DateField(_("next step date"), null=True, blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    # The form's one-time token: a double-submitted form finds the visit it already made.
    form_token = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["lead", "-occurred_at"], name="crm_visit_lead_occurred_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "form_token"],
                name="crm_visit_form_token_once",
                violation_error_message=_("This visit was already saved."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class StageChange(models.Model):
    """One move of a lead between stages: who, when, from, to and why."""

    lead = models.ForeignKey(
        Lead,
        verbose_name=_("lead"),
        on_delete=models.CASCADE,
        related_name="stage_changes",
        db_index=False,  # crm_stagechange_lead_idx leads with it
    )
    from_stage = models.CharField(_("from"), max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=20, choices=Stage.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    is_out_of_funnel = models.BooleanField(_("skipped stages"), default=False)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    objects = StageChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-changed_at"]
        indexes = [
            # to_stage included: which stages a cohort reached is read from the index alone (weekly review).
            models.Index(fields=["lead", "-changed_at"], name="crm_stagechange_lead_idx", include=["to_stage"]),
            models.Index(fields=["to_stage", "changed_at"], name="crm_stagechange_to_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage or '-'} → {self.to_stage}"


class OwnerChange(models.Model):
    """One change of a lead's or customer's owner: claims, returns, assignments and handovers."""

    class Action(models.TextChoices):
        CLAIM = "claim", _("Claimed from the pool")
        RETURN = "return", _("Returned to the pool")
        ASSIGN = "assign", _("Assigned")
        HANDOVER = "handover", _("Handed over")
        AUTO_RETURN = "auto_return", _("Returned to the pool automatically")
        MERGE = "merge", _("Merged duplicate")

    lead = models.ForeignKey(
        Lead, verbose_name=_("lead"), null=True, blank=True, on_delete=models.CASCADE, related_name="owner_changes"
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="owner_changes",
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    objects = OwnerChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("owner change")
        verbose_name_plural = _("owner changes")
        ordering = ["-changed_at"]
        indexes = [
            models.Index(fields=["lead", "-changed_at"], name="crm_ownerchange_lead_idx"),
            models.Index(fields=["actor", "action", "changed_at"], name="crm_ownerchange_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.changed_at:%Y-%m-%d}"


# Receivables (应收账款): contracts, installments, payments, reminders, money history, collection targets ----------


class CustomerAccount(models.Model):
    """A customer's standing in receivables: its credit limit and whether supply is suspended for unpaid debt."""

    customer = models.OneToOneField(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="account"
    )
    credit_limit = models.DecimalField(
        _("credit limit"),
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Empty: no limit."),
    )
    supply_suspended_at = models.DateTimeField(_("supply suspended since"), null=True, blank=True)
    suspension_reason = models.CharField(_("why supply is suspended"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CustomerAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer account")
        verbose_name_plural = _("customer accounts")
        indexes = [
            models.Index(
                fields=["customer"],
                name="crm_account_suspended_idx",
                condition=models.Q(supply_suspended_at__isnull=False),
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(credit_limit__isnull=True) | models.Q(credit_limit__gte=0),
                name="crm_customeraccount_limit_not_negative",
                violation_error_message=_("The credit limit cannot be negative."),
            )
        ]

    def __str__(self) -> str:
        return str(self.customer_id)

    @property
    def is_supply_suspended(self) -> bool:
        return self.supply_suspended_at is not None


class Contract(models.Model):
    """The contract of a signed lead; its customer is the lead's. Money on it moves only through the services."""

    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", _("Awaiting a director's approval")
        ACTIVE = "active", _("Active")
        CANCELLED = "cancelled", _("Cancelled")

    lead = models.ForeignKey(Lead, verbose_name=_("lead"), on_delete=models.PROTECT, related_name="contracts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sales rep"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
        help_text=_("The rep who signed it: credited with its collection and commission."),
    )
    amount = models.DecimalField(_("contract amount"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    signed_on = models.DateField(_("signed on"))
    terms = models.TextField(_("terms"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    commission_rate = models.DecimalField(
        _("commission rate (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    paid_amount = models.DecimalField(_("paid (confirmed)"), **MONEY, default=Decimal("0"), editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True, editable=False)
    cancel_reason = models.CharField(_("why cancelled"), max_length=300, blank=True, editable=False)
    implementation_accepted_at = models.DateTimeField(
        _("implementation accepted at"), null=True, blank=True, editable=False
    )
    collection_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("collection owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="collection_contracts",
        help_text=_("Who chases a hopeless debt (legal or a collection agent)."),
    )
    collection_note = models.CharField(_("collection note"), max_length=300, blank=True)
    collection_since = models.DateTimeField(_("in collection since"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-signed_on", "-pk"]
        indexes = [
            models.Index(fields=["owner", "status"], name="crm_contract_owner_status_idx"),
            models.Index(fields=["status", "-signed_on"], name="crm_contract_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0),
                name="crm_contract_amount_positive",
                violation_error_message=_("The contract amount must be more than zero."),
            ),
            models.CheckConstraint(
                condition=models.Q(paid_amount__gte=0, paid_amount__lte=models.F("amount")),
                name="crm_contract_paid_within_amount",
                violation_error_message=_("Confirmed payments cannot exceed the contract amount."),
            ),
            # One live contract per lead: signing twice (or two tabs at once) cannot make a second.
            models.UniqueConstraint(
                fields=["lead"],
                condition=~models.Q(status="cancelled"),
                name="crm_contract_one_live_per_lead",
                violation_error_message=_("This lead already has a contract."),
            ),
        ]

    def __str__(self) -> str:
        return _("Contract #%(pk)s") % {"pk": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("funnel:contract-detail", args=[self.pk])

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount

    @property
    def is_paid_in_full(self) -> bool:
        return self.paid_amount == self.amount


class Installment(models.Model):
    """One due date of a contract's payment plan; confirmed payments fill paid_amount."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="installments"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    paid_amount = models.DecimalField(_("paid (confirmed)"), **MONEY, default=Decimal("0"), editable=False)
    # The date of the payment that covered it in full (late collection lowers commission).
    paid_on = models.DateField(_("paid in full on"), null=True, blank=True, editable=False)

    objects = InstallmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        ordering = ["contract_id", "number"]
        indexes = [models.Index(fields=["due_on"], name="crm_installment_due_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "number"],
                name="crm_installment_number_unique",
                violation_error_message=_("The contract already has an installment with this number."),
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0),
                name="crm_installment_amount_positive",
                violation_error_message=_("An installment must be more than zero."),
            ),
            models.CheckConstraint(
                condition=models.Q(paid_amount__gte=0, paid_amount__lte=models.F("amount")),
                name="crm_installment_paid_within_amount",
                violation_error_message=_("Confirmed payments cannot exceed the installment."),
            ),
        ]

    def __str__(self) -> str:
        return _("Installment %(number)s") % {"number": self.number}

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount


class Payment(models.Model):
    """Money the customer paid against an installment: recorded by the rep or finance, counted once finance confirms."""

    class Status(models.TextChoices):
        RECORDED = "recorded", _("Awaiting confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")

    installment = models.ForeignKey(
        Installment, verbose_name=_("installment"), on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.DecimalField(_("amount"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    paid_on = models.DateField(_("paid on"))
    reference = models.CharField(_("bank reference"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RECORDED)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    reject_reason = models.CharField(_("why rejected"), max_length=300, blank=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-recorded_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "recorded_at"], name="crm_payment_status_idx"),
            models.Index(fields=["installment", "status"], name="crm_payment_installment_idx"),
            models.Index(fields=["paid_on"], name="crm_payment_paid_on_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0),
                name="crm_payment_amount_positive",
                violation_error_message=_("A payment must be more than zero."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.paid_on:%Y-%m-%d}"


class Reminder(models.Model):
    """A written reminder (工作函) sent for an overdue installment; payment or a reply answers it."""

    class Channel(models.TextChoices):
        LETTER = "letter", _("Letter")
        EMAIL = "email", _("Email")
        FAX = "fax", _("Fax")
        IN_PERSON = "in_person", _("Handed over in person")

    installment = models.ForeignKey(
        Installment, verbose_name=_("installment"), on_delete=models.PROTECT, related_name="reminders"
    )
    sent_on = models.DateField(_("sent on"))
    channel = models.CharField(_("sent by"), max_length=20, choices=Channel.choices, default=Channel.LETTER)
    note = models.CharField(_("note"), max_length=300, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("logged by"), on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer_note = models.CharField(_("answer"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        verbose_name = _("reminder letter")
        verbose_name_plural = _("reminder letters")
        ordering = ["-sent_on", "-pk"]
        indexes = [models.Index(fields=["installment", "-sent_on"], name="crm_reminder_installment_idx")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.sent_on:%Y-%m-%d}"


class MoneyChange(models.Model):
    """One change to money on record (who, when, before, after), written in the same transaction as the change."""

    class Action(models.TextChoices):
        CONTRACT_CREATED = "contract_created", _("Contract created")
        CONTRACT_APPROVED = "contract_approved", _("Contract approved over the credit limit")
        CONTRACT_CANCELLED = "contract_cancelled", _("Contract cancelled")
        PLAN_SET = "plan_set", _("Payment plan set")
        RATE_SET = "rate_set", _("Commission rate set")
        PAYMENT_RECORDED = "payment_recorded", _("Payment recorded")
        PAYMENT_CONFIRMED = "payment_confirmed", _("Payment confirmed")
        PAYMENT_REJECTED = "payment_rejected", _("Payment rejected")
        CREDIT_LIMIT_SET = "credit_limit_set", _("Credit limit set")
        SUPPLY_SUSPENDED = "supply_suspended", _("Supply suspended")
        SUPPLY_RESTORED = "supply_restored", _("Supply restored")
        COLLECTION_HANDOVER = "collection_handover", _("Handed to collection")

    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="money_changes",
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="money_changes",
    )
    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    objects = MoneyChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("money change")
        verbose_name_plural = _("money changes")
        ordering = ["-changed_at", "-pk"]
        indexes = [
            models.Index(fields=["contract", "-changed_at"], name="crm_moneychange_contract_idx"),
            models.Index(fields=["customer", "-changed_at"], name="crm_moneychange_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.changed_at:%Y-%m-%d %H:%M}"


class CollectionTarget(models.Model):
    """A rep's collection for one calendar month: the target set by the monthly job and what was collected."""

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sales rep"),
        on_delete=models.CASCADE,
        related_name="collection_targets",
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    target_amount = models.DecimalField(_("collection target"), **MONEY, null=True, blank=True)
    target_set_at = models.DateTimeField(_("target set at"), null=True, blank=True)
    collected_amount = models.DecimalField(_("collected"), **MONEY, default=Decimal("0"))
    rate = models.DecimalField(_("collection rate (%)"), max_digits=7, decimal_places=2, null=True, blank=True)
    collected_at = models.DateTimeField(_("collection counted at"), null=True, blank=True)

    objects = CollectionTargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection target")
        verbose_name_plural = _("collection targets")
        ordering = ["-month", "rep_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rep", "month"],
                name="crm_collectiontarget_rep_month_unique",
                violation_error_message=_("This rep already has a target for the month."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.rep_id} {self.month:%Y-%m}"
