import time

from django.conf import settings

SESSION_TOUCH_KEY = "_touched"


def touch_session(session) -> None:
    """Restart the session's idle clock."""
    session[SESSION_TOUCH_KEY] = int(time.time())


class IdleSessionMiddleware:
    """End sessions after SESSION_IDLE_SECONDS without a request.

    Saving the session on every request would cost a write per page; refreshing it at most
    every SESSION_TOUCH_EVERY_SECONDS keeps pages read-only while the idle limit holds
    within that margin.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and request.user.is_authenticated:
            touched = session.get(SESSION_TOUCH_KEY, 0)
            if time.time() - touched > settings.SESSION_TOUCH_EVERY_SECONDS:
                touch_session(session)
        return self.get_response(request)
