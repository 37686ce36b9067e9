from django.urls import path

from . import views

app_name = "scoring"

urlpatterns = [
    path("", views.scoring_settings, name="settings"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule-edit"),
    path("rules/<int:pk>/toggle/", views.rule_toggle, name="rule-toggle"),
    path("model/train/", views.model_train, name="model-train"),
    path("rescore/", views.rescore_all, name="rescore"),
    path("leads/<int:lead_id>/risk/", views.risk_assess, name="risk-assess"),
]
