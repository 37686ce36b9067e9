"""The receivables API: contracts, installments and payments with the pages' visibility; writes go to the services.

Money is a decimal string on the wire (COERCE_DECIMAL_TO_STRING). A refused payment is a 400 with
field-level messages; someone else's contract, installment or payment is a 404 on every verb.
"""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.serializers import CalledField, CustomerRefSerializer, UserRefSerializer
from crm.models import Contract, Installment, Payment
from crm.querysets import AgingBucket

from .. import selectors_receivables as selectors
from .. import services
from ..filters_receivables import ContractFilter, InstallmentFilter, PaymentFilter

MONEY = {"max_digits": 14, "decimal_places": 2}
ID_IN_PATH = r"\d{1,18}"  # an id that fits a bigint; anything else is 404


def _codes(choices) -> str:
    return ", ".join(f"`{value}`" for value, _label in choices)


class InstallmentSerializer(serializers.ModelSerializer):
    outstanding = serializers.DecimalField(source="outstanding_amount", read_only=True, **MONEY)
    aging = serializers.CharField(
        source="bucket", read_only=True, help_text=f"Aging bucket today: {_codes(AgingBucket.choices)}."
    )

    class Meta:
        model = Installment
        fields = ["id", "contract", "number", "due_on", "amount", "paid_amount", "outstanding", "paid_on", "aging"]


class ContractSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(source="lead.customer", read_only=True)
    owner = UserRefSerializer(read_only=True, allow_null=True)
    collection_owner = UserRefSerializer(read_only=True, allow_null=True)
    outstanding = serializers.DecimalField(read_only=True, **MONEY)
    contract_status = serializers.CharField(
        source="status", read_only=True, help_text=f"One of {_codes(Contract.Status.choices)}."
    )
    status_label = CalledField("get_status_display")
    supply_suspended = serializers.SerializerMethodField(help_text="Supply to the customer is suspended for debt.")
    installments = InstallmentSerializer(many=True, read_only=True)

    class Meta:
        model = Contract
        fields = [
            "id",
            "lead",
            "customer",
            "owner",
            "amount",
            "paid_amount",
            "outstanding",
            "signed_on",
            "terms",
            "contract_status",
            "status_label",
            "commission_rate",
            "collection_owner",
            "supply_suspended",
            "installments",
            "created_at",
        ]

    def get_supply_suspended(self, contract: Contract) -> bool:
        account = getattr(contract.lead.customer, "account", None)
        return bool(account and account.is_supply_suspended)


class PaymentSerializer(serializers.ModelSerializer):
    contract = serializers.IntegerField(source="installment.contract_id", read_only=True)
    payment_status = serializers.CharField(
        source="status", read_only=True, help_text=f"One of {_codes(Payment.Status.choices)}."
    )
    status_label = CalledField("get_status_display")
    recorded_by = UserRefSerializer(read_only=True)
    confirmed_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "installment",
            "contract",
            "amount",
            "paid_on",
            "reference",
            "note",
            "payment_status",
            "status_label",
            "recorded_by",
            "recorded_at",
            "confirmed_by",
            "confirmed_at",
            "reject_reason",
        ]


class PaymentRecordSerializer(serializers.Serializer):
    installment = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    amount = serializers.DecimalField(help_text="More than zero; at most what is still open.", **MONEY)
    paid_on = serializers.DateField(help_text="The day the customer paid; not in the future.")
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class PaymentRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


@extend_schema_view(
    list=extend_schema(summary="Contracts the user may see, with their installments"),
    retrieve=extend_schema(summary="One contract with its installments"),
)
class ContractViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_IN_PATH
    serializer_class = ContractSerializer
    filterset_class = ContractFilter

    def get_queryset(self):
        return selectors.contract_list(user=self.request.user, today=timezone.localdate())


@extend_schema_view(
    list=extend_schema(summary="Installments the user may see, with what is outstanding and its aging"),
    retrieve=extend_schema(summary="One installment"),
)
class InstallmentViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_IN_PATH
    serializer_class = InstallmentSerializer
    filterset_class = InstallmentFilter

    def get_queryset(self):
        return selectors.installment_list(user=self.request.user, today=timezone.localdate())


@extend_schema_view(
    list=extend_schema(summary="Payments on contracts the user may see"),
    retrieve=extend_schema(summary="One payment"),
)
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Payments: recorded by the rep (or finance), counted once finance confirms them."""

    lookup_value_regex = ID_IN_PATH
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter

    def get_queryset(self):
        return (
            Payment.objects.visible_to(self.request.user)
            .select_related("installment", "recorded_by", "confirmed_by")
            .order_by("-recorded_at", "-pk")
        )

    @extend_schema(
        summary="Record a payment against an installment",
        request=PaymentRecordSerializer,
        responses={201: PaymentSerializer, 400: OpenApiResponse(description="Field errors; nothing is written.")},
    )
    def create(self, request):
        serializer = PaymentRecordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        installment = get_object_or_404(Installment.objects.visible_to(request.user), pk=data.pop("installment"))
        payment = services.payment_record(installment=installment, actor=request.user, **data)
        return Response(PaymentSerializer(self.get_queryset().get(pk=payment.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Confirm a recorded payment (finance)",
        request=None,
        responses={200: PaymentSerializer, 400: OpenApiResponse(description="Already confirmed or rejected.")},
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        payment = get_object_or_404(self.get_queryset(), pk=pk)
        services.payment_confirm(payment=payment, actor=request.user)
        return Response(PaymentSerializer(self.get_queryset().get(pk=payment.pk)).data)

    @extend_schema(
        summary="Reject a recorded payment (finance)",
        request=PaymentRejectSerializer,
        responses={200: PaymentSerializer, 400: OpenApiResponse(description="Already confirmed or rejected.")},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        payment = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = PaymentRejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.payment_reject(payment=payment, actor=request.user, reason=serializer.validated_data["reason"])
        return Response(PaymentSerializer(self.get_queryset().get(pk=payment.pk)).data)
