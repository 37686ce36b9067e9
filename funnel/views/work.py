from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from .. import selectors
from ..selectors_receivables import my_strategic_visits


@login_required
def my_work(request):
    context = selectors.my_work(user=request.user)
    context["today"] = timezone.localdate()
    if request.user.is_rep or request.user.is_manager:
        context["strategic"] = my_strategic_visits(user=request.user, today=context["today"])
    return render(request, "funnel/my_work.html", context)
