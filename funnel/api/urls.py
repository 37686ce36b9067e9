from django.urls import path
from rest_framework.routers import DefaultRouter

from .receivables import ContractViewSet, InstallmentViewSet, PaymentViewSet
from .reports import FunnelByStageView, MonthlyConversionView, WeeklyReviewView
from .views import LeadViewSet, ReviewAgendaViewSet, VisitViewSet

router = DefaultRouter()
router.include_format_suffixes = False
router.register("leads", LeadViewSet, basename="lead")
router.register("visits", VisitViewSet, basename="visit")
router.register("review-agendas", ReviewAgendaViewSet, basename="review-agenda")
router.register("contracts", ContractViewSet, basename="contract")
router.register("installments", InstallmentViewSet, basename="installment")
router.register("payments", PaymentViewSet, basename="payment")

urlpatterns = [
    path("reports/weekly-review/", WeeklyReviewView.as_view(), name="weekly-review"),
    path("reports/funnel/", FunnelByStageView.as_view(), name="funnel-by-stage"),
    path("reports/monthly-conversion/", MonthlyConversionView.as_view(), name="monthly-conversion"),
    *router.urls,
]
