import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english_messages():
    """The money rules' tests read the services' messages in English; the pages' tests request Chinese."""
    with translation.override("en"):
        yield
