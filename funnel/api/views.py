import django_filters
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm import selectors as crm_selectors
from crm.api.serializers import LeadSerializer, VisitSerializer
from crm.filters import LeadFilter, VisitFilter, id_filter
from crm.models import Lead, Visit

from .. import services
from ..models import ReviewAgenda
from . import serializers as inputs


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _lead_for_change(request, pk) -> Lead:
    """Return a lead the user may change; anything else is a 404."""
    return get_object_or_404(Lead.objects.editable_by(request.user), pk=pk)


class LeadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Leads the user may see; writes go through the funnel's services."""

    queryset = Lead.objects.none()  # typed ids in the schema; get_queryset() scopes the real one
    lookup_value_regex = r"\d{1,18}"  # an id that fits a bigint; anything else is 404

    serializer_class = LeadSerializer
    filterset_class = LeadFilter

    def get_queryset(self):
        return crm_selectors.lead_list(user=self.request.user).select_related("customer", "owner")

    @extend_schema(request=inputs.LeadCreateSerializer, responses={201: LeadSerializer})
    def create(self, request):
        data = self._valid(inputs.LeadCreateSerializer, request.data)
        owner = data.pop("owner")
        if owner is None and (request.user.is_rep or request.user.is_manager):
            owner = request.user
        try:
            lead = services.lead_create(actor=request.user, owner=owner, **data)
        except PermissionDenied:
            raise exceptions.PermissionDenied(_("You cannot create leads for this owner.")) from None
        return Response(LeadSerializer(lead).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=inputs.LeadUpdateSerializer, responses={200: LeadSerializer})
    def partial_update(self, request, pk=None):
        lead = _lead_for_change(request, pk)
        data = self._valid(inputs.LeadUpdateSerializer, request.data, partial=True)
        lead = services.lead_update(lead=lead, actor=request.user, data=data)
        return Response(LeadSerializer(self.get_queryset().get(pk=lead.pk)).data)

    @extend_schema(
        request=inputs.TransitionSerializer,
        responses={200: LeadSerializer, 409: OpenApiResponse(description="The stage rules refuse the move.")},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the lead to another stage through the same rules as the pages; a refusal is 409."""
        lead = _lead_for_change(request, pk)
        data = self._valid(inputs.TransitionSerializer, request.data)
        try:
            lead = services.lead_transition(lead=lead, to_stage=data.pop("to"), actor=request.user, **data)
        except ValidationError as error:
            raise Conflict({"detail": " ".join(error.messages), "errors": error.message_dict}) from None
        return Response(LeadSerializer(self.get_queryset().get(pk=lead.pk)).data)

    @extend_schema(request=None, responses={200: LeadSerializer})
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        """Take a pool lead, within the caps."""
        lead = get_object_or_404(Lead.objects.visible_to(request.user).in_pool(), pk=pk)
        try:
            lead = services.lead_claim(lead=lead, rep=request.user)
        except ValidationError as error:
            raise Conflict({"detail": " ".join(error.messages), "errors": error.message_dict}) from None
        return Response(LeadSerializer(self.get_queryset().get(pk=lead.pk)).data)

    @extend_schema(request=inputs.ReleaseSerializer, responses={200: LeadSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Return the lead to the pool with a reason."""
        lead = _lead_for_change(request, pk)
        data = self._valid(inputs.ReleaseSerializer, request.data)
        lead = services.lead_release(lead=lead, actor=request.user, reason=data["reason"])
        return Response(LeadSerializer(self.get_queryset().get(pk=lead.pk)).data)

    @extend_schema(request=inputs.AssignSerializer, responses={200: LeadSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Give the lead (and its customer's open leads) to someone; managers and up."""
        if not request.user.manages_leads:
            raise exceptions.NotFound()
        lead = _lead_for_change(request, pk)
        data = self._valid(inputs.AssignSerializer, request.data)
        lead = services.lead_assign(lead=lead, to_owner=data["to_owner"], actor=request.user, reason=data["reason"])
        return Response(LeadSerializer(self.get_queryset().get(pk=lead.pk)).data)

    @extend_schema(request=inputs.VerdictSerializer, responses={200: LeadSerializer})
    @action(detail=True, methods=["post"])
    def verdict(self, request, pk=None):
        """Record a manager's verdict on a verdict-due lead (push on, lower the effort, abandon)."""
        if not request.user.manages_leads:
            raise exceptions.NotFound()
        lead = _lead_for_change(request, pk)
        data = self._valid(inputs.VerdictSerializer, request.data)
        services.lead_verdict(lead=lead, manager=request.user, **data)
        return Response(LeadSerializer(self.get_queryset().get(pk=lead.pk)).data)

    @staticmethod
    def _valid(serializer_class, data, **kwargs) -> dict:
        serializer = serializer_class(data=data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class VisitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Visit.objects.none()  # typed ids in the schema; get_queryset() scopes the real one
    lookup_value_regex = r"\d{1,18}"  # an id that fits a bigint; anything else is 404
    serializer_class = VisitSerializer
    filterset_class = VisitFilter

    def get_queryset(self):
        return Visit.objects.visible_to(self.request.user).select_related("author").order_by("-occurred_at", "-pk")

    @extend_schema(request=inputs.VisitCreateSerializer, responses={201: VisitSerializer})
    def create(self, request):
        serializer = inputs.VisitCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lead = get_object_or_404(Lead.objects.visible_to(request.user), pk=data.pop("lead"))
        visit = services.visit_log(lead=lead, author=request.user, **data)
        return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED)


class ReviewAgendaFilter(django_filters.FilterSet):
    team = id_filter("team_id")
    week_start = django_filters.DateFilter()

    class Meta:
        model = ReviewAgenda
        fields = ["team", "week_start"]


class ReviewAgendaViewSet(viewsets.ReadOnlyModelViewSet):
    """Weekly review agendas built by the Monday job: a manager's team, or every team for directors."""

    queryset = ReviewAgenda.objects.none()  # typed ids in the schema; get_queryset() scopes the real one
    lookup_value_regex = r"\d{1,18}"  # an id that fits a bigint; anything else is 404

    serializer_class = inputs.ReviewAgendaSerializer
    filterset_class = ReviewAgendaFilter

    def get_queryset(self):
        user = self.request.user
        agendas = ReviewAgenda.objects.order_by("-week_start", "team_id")
        if not user.is_authenticated:
            return agendas.none()
        if user.sees_all:
            return agendas
        if user.is_manager and user.team_id is not None:
            return agendas.filter(team_id=user.team_id)
        return agendas.none()
