from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from .models import LeadScore, ScoreRule, ScoringModel
from .services import rule_check
from .services.rules import rescore_all_after_commit


class ScoreRuleAdminForm(forms.ModelForm):
    class Meta:
        model = ScoreRule
        fields = ["name", "criterion", "attribute_key", "operator", "value", "points", "is_active"]

    def _post_clean(self):
        super()._post_clean()
        try:
            rule_check(self.instance)
        except ValidationError as error:
            self._update_errors(error)


@admin.register(ScoreRule)
class ScoreRuleAdmin(admin.ModelAdmin):
    form = ScoreRuleAdminForm
    list_display = ("name", "criterion", "attribute_key", "operator", "value", "points", "is_active")
    list_filter = ("is_active", "criterion")
    search_fields = ("name", "attribute_key", "value")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        rescore_all_after_commit()


@admin.register(ScoringModel)
class ScoringModelAdmin(admin.ModelAdmin):
    list_display = ("version", "trained_at", "n_won", "n_lost", "cv_auc", "training_seconds", "is_active")
    exclude = ("artifact",)
    readonly_fields = (
        "version",
        "algorithm",
        "trained_at",
        "n_won",
        "n_lost",
        "cv_auc",
        "training_seconds",
        "features",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).defer("artifact")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(LeadScore)
class LeadScoreAdmin(admin.ModelAdmin):
    list_display = ("lead", "points", "win_probability", "model_version_id", "scored_at")
    list_select_related = ("lead",)
    raw_id_fields = ("lead",)
    fields = ("lead", "points", "breakdown", "model_version_id", "win_probability", "top_factors", "scored_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False
