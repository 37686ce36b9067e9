from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from crm.filters import ContactFilter, CustomerFilter, StageChangeFilter
from crm.models import Contact, Customer, StageChange

from .serializers import ContactSerializer, CustomerSerializer, StageChangeSerializer


@extend_schema_view(list=extend_schema(summary="Customers the user may see"))
class CustomerViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Customer.objects.none()  # typed ids in the schema; get_queryset() scopes the real one
    lookup_value_regex = r"\d{1,18}"  # an id that fits a bigint; anything else is 404
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    ordering = ["name"]

    def get_queryset(self):
        return Customer.objects.visible_to(self.request.user).select_related("owner").order_by("name", "pk")


class ContactViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Contact.objects.none()  # typed ids in the schema; get_queryset() scopes the real one
    lookup_value_regex = r"\d{1,18}"  # an id that fits a bigint; anything else is 404
    serializer_class = ContactSerializer
    filterset_class = ContactFilter

    def get_queryset(self):
        return Contact.objects.visible_to(self.request.user).order_by("customer_id", "name", "pk")


class StageChangeViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = StageChange.objects.none()  # typed ids in the schema; get_queryset() scopes the real one
    lookup_value_regex = r"\d{1,18}"  # an id that fits a bigint; anything else is 404
    serializer_class = StageChangeSerializer
    filterset_class = StageChangeFilter

    def get_queryset(self):
        return StageChange.objects.visible_to(self.request.user).select_related("actor").order_by("-changed_at", "-pk")
