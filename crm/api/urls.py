from rest_framework.routers import DefaultRouter

from .views import ContactViewSet, CustomerViewSet, StageChangeViewSet

router = DefaultRouter()
router.include_format_suffixes = False
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register("stage-changes", StageChangeViewSet, basename="stage-change")

urlpatterns = router.urls
