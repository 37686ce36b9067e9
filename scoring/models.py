from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Criterion, Operator

POINTS_LIMIT = 100


class ScoreRule(models.Model):
    """One admin-edited rule of the points score: when the lead matches, it gets the points (may be negative)."""

    name = models.CharField(_("name"), max_length=100)
    criterion = models.CharField(_("looks at"), max_length=30, choices=Criterion.choices)
    attribute_key = models.CharField(
        _("attribute"), max_length=100, blank=True, help_text=_("For intake attributes: the key, e.g. industry.")
    )
    operator = models.CharField(_("condition"), max_length=12, choices=Operator.choices, blank=True)
    value = models.CharField(_("value"), max_length=200, blank=True)
    points = models.SmallIntegerField(
        _("points"), validators=[MinValueValidator(-POINTS_LIMIT), MaxValueValidator(POINTS_LIMIT)]
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("score rule")
        verbose_name_plural = _("score rules")
        ordering = ["criterion", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points__gte=-POINTS_LIMIT, points__lte=POINTS_LIMIT),
                name="scoring_scorerule_points_range",
                violation_error_message=_("Points must be between -100 and 100."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ScoringModel(models.Model):
    """One trained version of the win-probability model; the newest active one scores leads."""

    version = models.PositiveIntegerField(_("version"), primary_key=True)
    algorithm = models.CharField(_("algorithm"), max_length=200)
    trained_at = models.DateTimeField(_("trained at"))
    n_won = models.PositiveIntegerField(_("won leads"))
    n_lost = models.PositiveIntegerField(_("lost leads"))
    cv_auc = models.FloatField(_("cross-validated ROC-AUC"), null=True, blank=True)
    training_seconds = models.FloatField(_("training time (s)"), default=0)
    features = models.JSONField(_("inputs"), default=list, blank=True)
    # The fitted estimator, pickled; written only by this app's training job. Old versions are pruned to b"".
    artifact = models.BinaryField(_("fitted model"), editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("scoring model")
        verbose_name_plural = _("scoring models")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"


class LeadScore(models.Model):
    """A lead's last score: points with the rules that gave them, and the model's win probability and factors."""

    lead = models.OneToOneField(
        "crm.Lead", verbose_name=_("lead"), primary_key=True, on_delete=models.CASCADE, related_name="score_detail"
    )
    points = models.PositiveSmallIntegerField(_("points"), default=0, validators=[MaxValueValidator(POINTS_LIMIT)])
    breakdown = models.JSONField(_("breakdown"), default=list, blank=True)  # [{"rule", "name", "points"}]
    model_version = models.ForeignKey(
        ScoringModel,
        verbose_name=_("model version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    win_probability = models.DecimalField(_("win probability"), max_digits=5, decimal_places=4, null=True, blank=True)
    top_factors = models.JSONField(_("top factors"), default=list, blank=True)  # [{"feature", "value", "effect"}]
    scored_at = models.DateTimeField(_("scored at"))
    # 64-bit fingerprints a job compares instead of reading the JSON back: of the points and their rules,
    # and of the model version and the inputs it saw (same inputs, same model: same probability and factors).
    rules_digest = models.BigIntegerField(default=0, editable=False)
    model_digest = models.BigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("lead score")
        verbose_name_plural = _("lead scores")

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.points}"

    @property
    def breakdown_total(self) -> int:
        """Return the sum of the rules' points before clamping to 0-100."""
        return sum(item["points"] for item in self.breakdown)


class RiskAssessment(models.Model):
    """The risk assessment of a large deal (DOMAIN.md): five factors scored 1-5, classed A-D."""

    class RiskClass(models.TextChoices):
        A = "A", _("A: low risk, closes within 3 months")
        B = "B", _("B: low risk but slower, or moderate risk and quick")
        C = "C", _("C: moderate risk and slower")
        D = "D", _("D: failed: abandon or work it less")

    lead = models.OneToOneField(
        "crm.Lead", verbose_name=_("lead"), on_delete=models.CASCADE, related_name="risk_assessment"
    )
    size_budget = models.PositiveSmallIntegerField(_("size and budget"))
    funding_credit = models.PositiveSmallIntegerField(_("funding and credit"))
    fit = models.PositiveSmallIntegerField(_("our product meets the need"))
    competition = models.PositiveSmallIntegerField(_("our edge over competitors"))
    strategic_value = models.PositiveSmallIntegerField(_("strategic value"))
    months_to_close = models.PositiveSmallIntegerField(_("months to close"))
    total = models.PositiveSmallIntegerField(_("total"), editable=False)
    risk_class = models.CharField(_("class"), max_length=1, choices=RiskClass.choices, editable=False)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assessed by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assessed_at = models.DateTimeField(_("assessed at"), auto_now=True)

    class Meta:
        verbose_name = _("risk assessment")
        verbose_name_plural = _("risk assessments")

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.risk_class}"

    @property
    def passed(self) -> bool:
        return self.risk_class != self.RiskClass.D
