"""What every API in the product shares: pagination, the error shape and the filter backend."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, pagination
from rest_framework.views import exception_handler


class BoundedPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class VisibilityFilterBackend(DjangoFilterBackend):
    """django-filter, with the requesting user handed to FilterSets that limit their choices by visibility."""

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and getattr(filterset_class, "takes_user", False):
            kwargs["user"] = request.user
        return kwargs


def api_exception_handler(exc, context):
    """Turn service errors into API errors: field-keyed 400s, and 404 for what the user may not touch."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, DjangoPermissionDenied):
        exc = Http404()
    return exception_handler(exc, context)
