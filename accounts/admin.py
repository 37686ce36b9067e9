from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "team", "is_active", "last_login")
    list_filter = ("role", "team", "is_active")
    search_fields = ("username", "display_name", "email")
    list_select_related = ("team",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Sales organisation"), {"fields": ("display_name", "role", "team")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Sales organisation"), {"fields": ("display_name", "role", "team")}),
    )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager", "created_at")
    list_select_related = ("manager",)
    search_fields = ("name",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, read only."""

    list_display = ("at", "action", "actor", "object_type", "object_id", "address")
    list_filter = ("action", "object_type", ("at", admin.DateFieldListFilter))
    search_fields = ("object_id", "actor__username", "address")
    list_select_related = ("actor",)
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
