from django.db import migrations

# The rules a new installation starts with (DOMAIN.md: grade, BANT, source, buying roles, engagement, tier).
# Admins change them on the scoring settings page; names are stored as written here.
DEFAULT_RULES = [
    ("等级 A / Grade A", "grade", "", "eq", "A", 20),
    ("等级 B / Grade B", "grade", "", "eq", "B", 10),
    ("客户转介绍 / Referral from a customer", "source", "", "eq", "referral_customer", 15),
    ("朋友转介绍 / Referral from a friend", "source", "", "eq", "referral_friend", 10),
    ("主动来电 / Called in", "source", "", "eq", "inbound_call", 10),
    ("黄页 / Yellow pages", "source", "", "eq", "yellow_pages", 2),
    ("预算已知 / Budget known", "budget_known", "", "is_set", "", 8),
    ("决策人已知 / Authority known", "authority_known", "", "is_set", "", 8),
    ("需求已确认 / Need confirmed", "need_known", "", "is_set", "", 8),
    ("3 个月内采购 / Buying within 3 months", "timeline", "", "", "3", 6),
    ("6 个月内采购 / Buying within 6 months", "timeline", "", "", "6", 3),
    ("12 个月内采购 / Buying within 12 months", "timeline", "", "", "12", 2),
    ("预算 50 万以上 / Budget 500,000 or more", "budget_amount", "", "gte", "500000", 5),
    ("拜访过决策人 / Decision maker met", "decision_maker_reached", "", "is_set", "", 10),
    ("近 30 天互动 / Engagement in the last 30 days", "engagement", "", "", "4", 15),
    ("战略客户 / Strategic customer", "customer_tier", "", "eq", "strategic", 10),
    ("重要客户 / Important customer", "customer_tier", "", "eq", "important", 5),
    ("行业：制造业 / Industry: manufacturing", "attribute", "industry", "eq", "制造业", 10),
]


def add_rules(apps, schema_editor):
    ScoreRule = apps.get_model("scoring", "ScoreRule")
    if ScoreRule.objects.exists():
        return
    ScoreRule.objects.bulk_create(
        ScoreRule(name=name, criterion=criterion, attribute_key=key, operator=operator, value=value, points=points)
        for name, criterion, key, operator, value, points in DEFAULT_RULES
    )


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]

    operations = [migrations.RunPython(add_rules, migrations.RunPython.noop)]
