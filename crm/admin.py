from django.contrib import admin

from .models import (
    CollectionTarget,
    Contact,
    Contract,
    Customer,
    CustomerAccount,
    Installment,
    Lead,
    MoneyChange,
    Payment,
    Reminder,
    StageChange,
    Visit,
)


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "city", "industry", "tier", "credit", "owner", "updated_at")
    list_filter = ("tier", "credit", "business_status", "size")
    search_fields = ("name", "name_key", "phone", "email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "customer", "role", "title", "phone", "email")
    list_filter = ("role",)
    search_fields = ("name", "phone", "email", "customer__name")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)


class VisitInline(admin.TabularInline):
    model = Visit
    extra = 0
    raw_id_fields = ("author", "contact")


class StageChangeInline(admin.TabularInline):
    model = StageChange
    extra = 0
    readonly_fields = ("from_stage", "to_stage", "actor", "reason", "is_out_of_funnel", "changed_at")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # stage changes are written by the funnel's transition service only


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "customer",
        "owner",
        "stage",
        "grade",
        "score",
        "expected_amount",
        "is_followup_overdue",
        "is_verdict_due",
        "updated_at",
    )
    list_filter = ("stage", "grade", "source", "is_followup_overdue", "is_verdict_due")
    search_fields = ("title", "customer__name")
    list_select_related = ("customer", "owner")
    raw_id_fields = ("customer", "owner")
    readonly_fields = ("stage", "score", "win_probability", "scored_at", "created_by")
    inlines = [VisitInline, StageChangeInline]


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ("lead", "kind", "outcome", "author", "occurred_at", "next_step_date")
    list_filter = ("kind", "outcome")
    list_select_related = ("lead", "author")
    raw_id_fields = ("lead", "author", "contact")


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    list_display = ("lead", "from_stage", "to_stage", "actor", "is_out_of_funnel", "changed_at")
    list_filter = ("to_stage", "is_out_of_funnel")
    list_select_related = ("lead", "actor")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# Receivables (issue 4): money moves only through the receivables services, so the admin only reads it. ----------


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class InstallmentInline(admin.TabularInline):
    model = Installment
    extra = 0
    readonly_fields = ("number", "due_on", "amount", "paid_amount", "paid_on")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "lead", "owner", "amount", "paid_amount", "status", "signed_on", "collection_owner")
    list_filter = ("status",)
    search_fields = ("lead__customer__name",)
    list_select_related = ("lead", "owner", "collection_owner")
    inlines = [InstallmentInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("installment", "amount", "paid_on", "status", "recorded_by", "confirmed_by", "confirmed_at")
    list_filter = ("status",)
    list_select_related = ("installment", "recorded_by", "confirmed_by")


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("installment", "sent_on", "channel", "author", "answered_at")
    list_select_related = ("installment", "author")


@admin.register(CustomerAccount)
class CustomerAccountAdmin(ReadOnlyAdmin):
    list_display = ("customer", "credit_limit", "supply_suspended_at", "suspension_reason")
    list_select_related = ("customer",)
    search_fields = ("customer__name",)


@admin.register(MoneyChange)
class MoneyChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "action", "contract", "customer", "actor")
    list_filter = ("action",)
    list_select_related = ("contract", "customer", "actor")


@admin.register(CollectionTarget)
class CollectionTargetAdmin(ReadOnlyAdmin):
    list_display = ("month", "rep", "target_amount", "collected_amount", "rate")
    list_filter = ("month",)
    list_select_related = ("rep",)
