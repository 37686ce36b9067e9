from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import ApiTokenViewSet, MeView, TeamViewSet, TokenObtainView, UserViewSet

router = DefaultRouter()
router.include_format_suffixes = False
router.register("users", UserViewSet, basename="user")
router.register("teams", TeamViewSet, basename="team")
router.register("auth/tokens", ApiTokenViewSet, basename="token")

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="token-obtain"),
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
]
