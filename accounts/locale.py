from django.conf import settings
from django.utils import translation


class ChosenLanguageMiddleware:
    """Speak the language the user picked with the switch, else the product's default (zh-hans).

    Django's LocaleMiddleware would follow the browser's Accept-Language; a Chinese-first
    product keeps Chinese on an English-language browser until the user switches.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen and translation.check_for_language(chosen) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
