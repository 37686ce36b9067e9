from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from ..services import token_user


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <secret>` for scripts; the token's user acts with their own visibility."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        user = token_user(secret=header[1])
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        return user, None

    def authenticate_header(self, request) -> str:
        return self.keyword
