from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from .. import selectors


@login_required
def board(request):
    people = selectors.board_people(viewer=request.user)
    owner = request.user
    if "rep" in request.GET:
        owner = people.filter(pk=request.GET["rep"]).first() if request.GET["rep"].isdigit() else None
        if owner is None:
            raise Http404
    elif not (request.user.is_rep or request.user.is_manager):
        owner = people.first()
        if owner is None:
            raise Http404
    context = selectors.board(viewer=request.user, owner=owner)
    context.update(owner=owner, people=people if len(people) > 1 else [])
    return render(request, "funnel/board.html", context)
