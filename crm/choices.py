from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    RESOURCE = "resource", _("Resource")
    GRADED = "graded", _("Graded")
    CONTACTED = "contacted", _("Contacted")
    LEAD = "lead", _("Lead")
    INTENTION = "intention", _("Intention")
    SIGNED = "signed", _("Signed")
    IMPLEMENTED = "implemented", _("Implemented")
    ABANDONED = "abandoned", _("Abandoned")


FUNNEL_ORDER = [
    Stage.RESOURCE,
    Stage.GRADED,
    Stage.CONTACTED,
    Stage.LEAD,
    Stage.INTENTION,
    Stage.SIGNED,
    Stage.IMPLEMENTED,
]
CLOSED_STAGES = (Stage.IMPLEMENTED, Stage.ABANDONED)
OPEN_STAGES = tuple(s for s in FUNNEL_ORDER if s not in CLOSED_STAGES)


class Grade(models.TextChoices):
    A = "A", _("A: larger company, right contact, or inbound")
    B = "B", _("B: average company, need not yet certain")
    C = "C", _("C: situation unclear")


class Source(models.TextChoices):
    REFERRAL_CUSTOMER = "referral_customer", _("Referral from a customer")
    REFERRAL_FRIEND = "referral_friend", _("Referral from a friend")
    INBOUND_CALL = "inbound_call", _("Called in")
    WEB_FORM = "web_form", _("Web form")
    WEBSITE = "website", _("Website")
    EXHIBITION = "exhibition", _("Exhibition or seminar")
    ADVERTISING = "advertising", _("Advertising")
    PRESS = "press", _("Press")
    DATABASE = "database", _("Purchased database")
    YELLOW_PAGES = "yellow_pages", _("Yellow pages")
    OTHER = "other", _("Other")


class Tier(models.TextChoices):
    STRATEGIC = "strategic", _("Strategic")
    IMPORTANT = "important", _("Important")
    GENERAL = "general", _("General")


class CompanySize(models.TextChoices):
    MICRO = "micro", _("Under 20 staff")
    SMALL = "small", _("20-99 staff")
    MEDIUM = "medium", _("100-499 staff")
    LARGE = "large", _("500-1999 staff")
    ENTERPRISE = "enterprise", _("2000+ staff")


class Credit(models.TextChoices):
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    POOR = "poor", _("Poor")
    UNKNOWN = "unknown", _("Unknown")


class BusinessStatus(models.TextChoices):
    OPERATING = "operating", _("Operating")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


class BuyingRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    TECHNICAL = "technical", _("Technical")
    FINANCE = "finance", _("Finance")


class VisitKind(models.TextChoices):
    CALL = "call", _("Phone call")
    VISIT = "visit", _("Visit")
    DEMO = "demo", _("Demonstration")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")


class VisitOutcome(models.TextChoices):
    ORDER = "order", _("Order")
    PROGRESS = "progress", _("Progress")
    CONTINUATION = "continuation", _("Continuation")
    NO_SALE = "no_sale", _("No sale")


class LostReason(models.TextChoices):
    REFUSED = "refused", _("Refused")
    UNREACHABLE = "unreachable", _("Unreachable")
    UNSUITABLE = "unsuitable", _("Unsuitable")
    BOUGHT_ELSEWHERE = "bought_elsewhere", _("Bought elsewhere")
    OTHER = "other", _("Other")


class Confidence(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
