from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from crm.choices import Source, Stage
from crm.models import Contact, Customer, Lead, OwnerChange, StageChange
from crm.selectors import customer_duplicates

from ..models import Webhook
from ..webhooks import lead_payload, webhook_emit
from .cadence import leads_flag_cadence
from .ownership import owner_changes_record
from .pool import assignable_users
from .receivables_collection import customer_account_fold

# What a lead's edit form may change; owner, stage, score and flags have their own doors.
EDITABLE_LEAD_FIELDS = (
    "title",
    "grade",
    "source",
    "product",
    "expected_amount",
    "expected_close_date",
    "budget_known",
    "budget_amount",
    "budget_confidence",
    "budget_learned_on",
    "authority_known",
    "authority_note",
    "authority_confidence",
    "authority_learned_on",
    "need_known",
    "need_note",
    "need_confidence",
    "need_learned_on",
    "timeline_date",
    "timeline_confidence",
    "timeline_learned_on",
    "next_step",
    "next_step_date",
)
# Each BANT element: (is it known on this lead, the field that dates it).
BANT_LEARNED = {
    "budget": (lambda lead: lead.budget_known, "budget_learned_on"),
    "authority": (lambda lead: lead.authority_known, "authority_learned_on"),
    "need": (lambda lead: lead.need_known, "need_learned_on"),
    "timeline": (lambda lead: lead.timeline_date is not None, "timeline_learned_on"),
}
MERGE_FILLS = ("phone", "email", "address", "city", "industry")


def _find_customer(*, company: str, phone: str, email: str, owner) -> Customer | None:
    """Return the existing customer to reuse, or refuse when another rep owns it (one customer, one owner)."""
    matches = customer_duplicates(name=company, phone=phone, email=email)
    for field, customer in matches:  # any owned twin refuses, even beside an unowned one
        if customer.owner_id is not None and customer.owner_id != getattr(owner, "pk", None):
            raise ValidationError(
                {
                    field: _("This customer already belongs to %(owner)s (%(name)s); ask them or your manager.")
                    % {"owner": customer.owner, "name": customer.name}
                }
            )
    return matches[0][1] if matches else None  # all left are unowned or the owner's own


@transaction.atomic
def lead_create(
    *,
    actor,
    owner,
    company: str,
    phone: str = "",
    email: str = "",
    city: str = "",
    industry: str = "",
    contact_name: str = "",
    contact_role: str = "",
    title: str = "",
    source: str = Source.OTHER,
    expected_amount: Decimal | None = None,
) -> Lead:
    """Create a lead at 资源 on a new or matching customer; refuse a customer another rep owns."""
    if not (actor.works_leads or actor.is_support):
        raise PermissionDenied
    if owner is not None and owner.pk != actor.pk and not assignable_users(actor).filter(pk=owner.pk).exists():
        raise PermissionDenied
    company = company.strip()
    if not company:
        raise ValidationError({"company": _("Enter the company name.")})
    customer = _find_customer(company=company, phone=phone, email=email, owner=owner)
    return lead_insert(
        customer=customer,
        owner=owner,
        actor=actor,
        customer_fields={"name": company, "phone": phone, "email": email, "city": city, "industry": industry},
        contact_fields={"name": contact_name, "role": contact_role, "phone": phone, "email": email},
        lead_fields={"title": title.strip(), "source": source, "expected_amount": expected_amount},
    )


def lead_insert(
    *, customer: Customer | None, owner, actor, customer_fields: dict, contact_fields: dict, lead_fields: dict
) -> Lead:
    """Write a new lead at 资源 with its customer (new unless given), contact and first stage change.

    The callers (the lead form, web-to-lead intake, imports) check duplicates and rights first.
    """
    if customer is None:
        customer = Customer.objects.create(**{k: (v or "").strip() for k, v in customer_fields.items()})
    if customer.owner_id != getattr(owner, "pk", None):
        customer.owner = owner
        customer.save(update_fields=["owner", "updated_at"])
    if (contact_fields.get("name") or "").strip():
        Contact.objects.create(customer=customer, **{k: (v or "").strip() for k, v in contact_fields.items()})
    lead = Lead.objects.create(customer=customer, owner=owner, stage=Stage.RESOURCE, created_by=actor, **lead_fields)
    StageChange.objects.create(lead=lead, from_stage="", to_stage=Stage.RESOURCE, actor=actor)
    webhook_emit(event=Webhook.Event.LEAD_CREATED, payload=lambda: lead_payload(lead))
    return lead


@transaction.atomic
def lead_update(*, lead: Lead, actor, data: dict) -> Lead:
    """Change a lead's own fields (grade, amounts, BANT, next step); anything else in data is refused."""
    unknown = set(data) - set(EDITABLE_LEAD_FIELDS)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    lead = Lead.objects.editable_by(actor).select_for_update(of=("self",)).filter(pk=lead.pk).first()
    if lead is None:
        raise PermissionDenied
    for field, value in data.items():
        setattr(lead, field, value)
    if lead.budget_amount is not None and lead.budget_amount > 0:
        lead.budget_known = True
    for known, learned_field in BANT_LEARNED.values():  # a newly learned element is dated today unless told
        if known(lead) and getattr(lead, learned_field) is None:
            setattr(lead, learned_field, timezone.localdate())
        elif not known(lead):
            setattr(lead, learned_field, None)
    lead.full_clean(exclude=["customer", "owner", "created_by"])
    lead.save()
    leads_flag_cadence(lead_ids=[lead.pk])
    return lead


@transaction.atomic
def customer_merge(*, keep: Customer, duplicate: Customer, actor) -> Customer:
    """Fold a duplicate customer into the one kept: leads, contacts and history move, blanks are filled."""
    if actor.role not in (Role.SUPPORT, Role.DIRECTOR, Role.ADMIN) and not actor.is_superuser:
        raise PermissionDenied
    if keep.pk == duplicate.pk:
        raise ValidationError({"duplicate": _("Choose two different customers.")})
    keep = Customer.objects.select_for_update(of=("self",)).get(pk=keep.pk)
    duplicate = Customer.objects.select_for_update(of=("self",)).get(pk=duplicate.pk)
    if None not in (keep.owner_id, duplicate.owner_id) and keep.owner_id != duplicate.owner_id:
        raise ValidationError(
            {"duplicate": _("These customers belong to different reps; a manager must reassign one first.")}
        )
    Lead.objects.filter(customer=duplicate).update(customer=keep)
    Contact.objects.filter(customer=duplicate).update(customer=keep)
    OwnerChange.objects.filter(customer=duplicate).update(customer=keep)
    for field in MERGE_FILLS:
        if not getattr(keep, field):
            setattr(keep, field, getattr(duplicate, field))
    keep.owner_id = keep.owner_id or duplicate.owner_id
    keep.notes = "\n".join(filter(None, [keep.notes, duplicate.notes]))
    customer_account_fold(keep=keep, duplicate=duplicate, actor=actor)
    name = duplicate.name
    duplicate.delete()
    keep.save()
    owner_changes_record(
        [
            OwnerChange(
                customer=keep,
                action=OwnerChange.Action.MERGE,
                from_owner_id=keep.owner_id,
                to_owner_id=keep.owner_id,
                actor=actor,
                reason=_("Merged duplicate “%s”") % name,
            )
        ]
    )
    return keep


@transaction.atomic
def contact_add(*, customer: Customer, actor, data: dict) -> Contact:
    """Add a person to a customer the actor may change."""
    if not Customer.objects.editable_by(actor).filter(pk=customer.pk).exists():
        raise PermissionDenied
    contact = Contact(customer=customer, **data)
    contact.full_clean()
    contact.save()
    return contact
