"""Receivables writes from the pages: each view parses a form, fetches through visibility and calls one service."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.models import Contract, Customer, Installment, Payment, Reminder

from .. import selectors_receivables as selectors
from .. import services
from ..forms import (
    CollectionHandoverForm,
    CommissionRateForm,
    ContractTermsForm,
    CreditLimitForm,
    InstallmentFormSet,
    PaymentForm,
    ReasonForm,
    ReminderAnswerForm,
    ReminderForm,
    apply_service_errors,
)
from ..services.receivables import is_finance_or_director
from .common import done, safe_next


def _dialog(request, *, form, title: str, submit: str, subtitle: str, next_url: str, save: Callable, success: str):
    """Run a one-form action: on a valid post call save(data), show service errors on the form, else render it.

    The form works as a full page and inside the htmx dialog; a refused write changes nothing.
    """
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, success)
            return done(request, next_url)
    context = {
        "form": form,
        "fields": list(form.visible_fields()),
        "action": request.path,
        "title": title,
        "subtitle": subtitle,
        "submit": submit,
        "next": next_url,
    }
    template = "receivables/partials/dialog.html" if request.htmx else "receivables/dialog_page.html"
    return render(request, template, context)


def _contract(request, pk: int) -> Contract:
    """Return a contract the user may see (with its customer); anything else is a 404."""
    return get_object_or_404(Contract.objects.visible_to(request.user).select_related("lead__customer"), pk=pk)


def _editable_contract(request, pk: int) -> Contract:
    return get_object_or_404(Contract.objects.editable_by(request.user).select_related("lead__customer"), pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def payment_new(request, pk: int):
    contract = _editable_contract(request, pk)
    first_open = contract.installments.unpaid().order_by("number").first()
    form = PaymentForm(
        request.POST or None,
        contract=contract,
        initial={"installment": first_open, "paid_on": timezone.localdate()},
    )

    def save(data):
        services.payment_record(
            installment=data["installment"],
            actor=request.user,
            amount=data["amount"],
            paid_on=data["paid_on"],
            reference=data["reference"],
            note=data["note"],
        )

    return _dialog(
        request,
        form=form,
        title=_("Record a payment"),
        submit=_("Record"),
        subtitle=contract.lead.customer.name,
        next_url=safe_next(request, contract.get_absolute_url()),
        save=save,
        success=_("Payment recorded; finance confirms it before it counts."),
    )


@login_required
@require_POST
def payment_confirm(request, pk: int):
    payment = get_object_or_404(Payment.objects.visible_to(request.user), pk=pk)
    try:
        services.payment_confirm(payment=payment, actor=request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Payment of ¥%(amount)s confirmed.") % {"amount": f"{payment.amount:,.2f}"})
    return done(request, safe_next(request, reverse("funnel:payment-confirmations")))


@login_required
@require_http_methods(["GET", "POST"])
def payment_reject(request, pk: int):
    if not request.user.is_finance:
        raise Http404
    payment = get_object_or_404(
        Payment.objects.visible_to(request.user).select_related("installment__contract__lead__customer"), pk=pk
    )
    return _dialog(
        request,
        form=ReasonForm(request.POST or None),
        title=_("Reject the payment"),
        submit=_("Reject"),
        subtitle=f"{payment.installment.contract.lead.customer.name} · ¥{payment.amount:,.2f}",
        next_url=safe_next(request, reverse("funnel:payment-confirmations")),
        save=lambda data: services.payment_reject(payment=payment, actor=request.user, reason=data["reason"]),
        success=_("Payment rejected."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_plan(request, pk: int):
    """Set the payment plan (installments that add up to the amount) and the terms."""
    contract = _editable_contract(request, pk)
    rows = [{"due_on": i.due_on, "amount": i.amount} for i in contract.installments.order_by("number")]
    formset = InstallmentFormSet(request.POST or None, initial=rows, prefix="installments")
    terms = ContractTermsForm(request.POST or None, initial={"terms": contract.terms})
    errors = []
    if request.method == "POST" and formset.is_valid() and terms.is_valid():
        plan = [
            (row["due_on"], row["amount"])
            for row in formset.cleaned_data
            if row and (row.get("due_on") or row.get("amount") is not None)
        ]
        try:
            services.contract_plan_set(
                contract=contract, actor=request.user, installments=plan, terms=terms.cleaned_data["terms"]
            )
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(request, _("Payment plan saved."))
            return done(request, contract.get_absolute_url())
    context = {"contract": contract, "formset": formset, "terms": terms, "errors": errors}
    return render(request, "receivables/contract_plan.html", context)


@login_required
@require_POST
def contract_approve(request, pk: int):
    contract = _contract(request, pk)
    try:
        services.contract_approve(contract=contract, actor=request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Contract approved over the credit limit."))
    return done(request, safe_next(request, contract.get_absolute_url()))


@login_required
@require_http_methods(["GET", "POST"])
def contract_cancel(request, pk: int):
    contract = _contract(request, pk)
    if not is_finance_or_director(request.user):
        raise Http404
    return _dialog(
        request,
        form=ReasonForm(request.POST or None),
        title=_("Cancel the contract"),
        submit=_("Cancel the contract"),
        subtitle=contract.lead.customer.name,
        next_url=safe_next(request, contract.get_absolute_url()),
        save=lambda data: services.contract_cancel(contract=contract, actor=request.user, reason=data["reason"]),
        success=_("Contract cancelled."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_rate(request, pk: int):
    contract = _contract(request, pk)
    if not is_finance_or_director(request.user):
        raise Http404
    return _dialog(
        request,
        form=CommissionRateForm(request.POST or None, initial={"commission_rate": contract.commission_rate}),
        title=_("Commission rate"),
        submit=_("Save"),
        subtitle=contract.lead.customer.name,
        next_url=contract.get_absolute_url(),
        save=lambda data: services.contract_rate_set(
            contract=contract, actor=request.user, commission_rate=data["commission_rate"]
        ),
        success=_("Commission rate saved."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_collection(request, pk: int):
    contract = _contract(request, pk)
    if not is_finance_or_director(request.user):
        raise Http404
    return _dialog(
        request,
        form=CollectionHandoverForm(request.POST or None),
        title=_("Hand the debt to collection"),
        submit=_("Hand over"),
        subtitle=contract.lead.customer.name,
        next_url=contract.get_absolute_url(),
        save=lambda data: services.contract_collection_handover(
            contract=contract, actor=request.user, collection_owner=data["collection_owner"], note=data["note"]
        ),
        success=_("The debt is now with its collection owner."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def reminder_new(request, pk: int):
    installment = get_object_or_404(
        Installment.objects.editable_by(request.user).select_related("contract__lead__customer"), pk=pk
    )
    contract = installment.contract
    return _dialog(
        request,
        form=ReminderForm(request.POST or None, initial={"sent_on": timezone.localdate()}),
        title=_("Log a reminder letter"),
        submit=_("Log"),
        subtitle=_("%(customer)s · installment %(n)s due %(due)s")
        % {"customer": contract.lead.customer.name, "n": installment.number, "due": installment.due_on.isoformat()},
        next_url=safe_next(request, contract.get_absolute_url()),
        save=lambda data: services.reminder_log(
            installment=installment,
            actor=request.user,
            channel=data["channel"],
            note=data["note"],
            sent_on=data["sent_on"],
        ),
        success=_("Reminder logged."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def reminder_answer(request, pk: int):
    reminder = get_object_or_404(
        Reminder.objects.filter(installment__in=Installment.objects.editable_by(request.user)).select_related(
            "installment__contract__lead__customer"
        ),
        pk=pk,
    )
    contract = reminder.installment.contract
    return _dialog(
        request,
        form=ReminderAnswerForm(request.POST or None),
        title=_("Mark the reminder answered"),
        submit=_("Save"),
        subtitle=contract.lead.customer.name,
        next_url=safe_next(request, contract.get_absolute_url()),
        save=lambda data: services.reminder_answer(reminder=reminder, actor=request.user, note=data["note"]),
        success=_("Reminder marked answered."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def credit_limit(request, pk: int):
    if not is_finance_or_director(request.user):
        raise Http404
    data = selectors.customer_receivables(user=request.user, pk=pk, today=timezone.localdate())
    customer: Customer = data["customer"]
    return _dialog(
        request,
        form=CreditLimitForm(request.POST or None, initial={"credit_limit": data["account"].credit_limit}),
        title=_("Credit limit"),
        submit=_("Save"),
        subtitle=customer.name,
        next_url=reverse("funnel:customer-receivables", args=[customer.pk]),
        save=lambda form_data: services.credit_limit_set(
            customer=customer, actor=request.user, credit_limit=form_data["credit_limit"]
        ),
        success=_("Credit limit saved."),
    )
