import django_filters
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from ..models import ApiToken, Role, Team, User
from ..services import token_create, token_revoke
from .serializers import (
    ApiTokenSerializer,
    MeSerializer,
    TeamSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
    UserSerializer,
)


class TokenObtainView(APIView):
    """Trade a username and password for a personal token (throttled)."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=TokenRequestSerializer, responses={201: TokenResponseSerializer})
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(request, username=data["username"], password=data["password"])
        if user is None:
            return Response(
                {"detail": _("Wrong username or password.")},
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": "Token"},
            )
        _token, secret = token_create(user=user, name=data["name"] or _("API script"))
        return Response({"token": secret}, status=status.HTTP_201_CREATED)


class ApiTokenViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own tokens; revoke one with POST .../revoke/."""

    queryset = ApiToken.objects.none()  # typed ids in the schema; get_queryset() scopes the real one
    lookup_value_regex = r"\d{1,18}"  # an id that fits a bigint; anything else is 404

    serializer_class = ApiTokenSerializer

    def get_queryset(self):
        if not self.request.user.is_authenticated:  # the schema generator asks anonymously
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user)

    @extend_schema(request=None, responses={200: ApiTokenSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = self.get_object()
        return Response(ApiTokenSerializer(token_revoke(token=token)).data)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    team = django_filters.NumberFilter(field_name="team_id", min_value=1, max_value=2**63 - 1)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = User
        fields = ["role", "team", "is_active"]


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = User.objects.none()  # typed ids in the schema; get_queryset() scopes the real one
    lookup_value_regex = r"\d{1,18}"  # an id that fits a bigint; anything else is 404
    serializer_class = UserSerializer
    filterset_class = UserFilter

    def get_queryset(self):
        return User.objects.visible_to(self.request.user).order_by("username")


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Team.objects.none()  # typed ids in the schema; get_queryset() scopes the real one
    lookup_value_regex = r"\d{1,18}"  # an id that fits a bigint; anything else is 404
    serializer_class = TeamSerializer

    def get_queryset(self):
        user = self.request.user
        teams = Team.objects.order_by("name")
        if not user.is_authenticated:
            return teams.none()
        if user.sees_all or user.role in ("finance", "support"):
            return teams
        return teams.filter(pk=user.team_id)
