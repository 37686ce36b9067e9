"""The one visibility rule of the product, written once (DOMAIN.md "Who uses it").

rep: own records and the pool; manager: the team's records and the pool; director and
admin: everything; support: the pool; finance: no funnel records (contracts and
receivables have their own rule). Every queryset's `visible_to` is built from here.
"""

from django.db.models import Q

NOTHING = Q(pk__in=[])


def owned_q(user, field: str = "owner") -> Q:
    """Return the filter for funnel records (by their owner field) the user may see."""
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    pool = Q(**{f"{field}__isnull": True})
    if user.sees_all:
        return Q()
    if user.is_manager and user.team_id is not None:
        return Q(**{f"{field}__team_id": user.team_id}) | pool
    if user.is_manager or user.is_rep:
        return Q(**{field: user.pk}) | pool
    if user.is_support:
        return pool
    return NOTHING


def owned_parts(user, field: str = "owner") -> list[Q]:
    """Return owned_q as disjoint parts (own or team, then the pool) that each page on its own index.

    A single part means there is nothing to split: one filter serves as well.
    """
    if user.is_authenticated and user.is_active and not user.sees_all:
        pool = Q(**{f"{field}__isnull": True})
        if user.is_manager and user.team_id is not None:
            return [Q(**{f"{field}__team_id": user.team_id}), pool]
        if user.is_manager or user.is_rep:
            return [Q(**{field: user.pk}), pool]
    return [owned_q(user, field)]


def editable_q(user, field: str = "owner") -> Q:
    """Return the filter for funnel records the user may change: like owned_q, but a rep edits only their own."""
    if user.is_authenticated and user.is_active and user.is_rep:
        return Q(**{field: user.pk})
    return owned_q(user, field)
