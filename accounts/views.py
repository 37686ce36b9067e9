from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .forms import TokenForm
from .models import ApiToken
from .services import token_create, token_revoke


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    form = TokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        _token, secret = token_create(user=request.user, name=form.cleaned_data["name"])
        form = TokenForm()
    context = {"form": form, "secret": secret, "tokens": ApiToken.objects.filter(user=request.user)}
    return render(request, "accounts/tokens.html", context)


@login_required
@require_POST
def token_revoke_view(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token_revoke(token=token)
    messages.success(request, _("Token revoked."))
    return redirect("accounts:tokens")
