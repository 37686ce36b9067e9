from django.urls import path

from .views import IntakeLeadView

urlpatterns = [path("intake/leads/", IntakeLeadView.as_view(), name="intake-leads")]
