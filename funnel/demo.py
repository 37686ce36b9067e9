"""Build the demo dataset behind `manage.py seed_demo`: a sales team and a funnel that looks lived in.

Every value is drawn from one seeded random.Random, so a seed always gives the same funnel, and
every row is written with bulk_create: 2,000 leads take about two seconds on SQLite.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Role, Team, User
from crm import normalize
from crm.choices import (
    CLOSED_STAGES,
    FUNNEL_ORDER,
    BuyingRole,
    CompanySize,
    Credit,
    Grade,
    LostReason,
    Source,
    Stage,
    Tier,
    VisitKind,
    VisitOutcome,
)
from crm.models import Contact, Contract, Customer, Installment, Lead, MoneyChange, Payment, StageChange, Visit
from funnel.ideal import ideal
from funnel.reports.rollups import rollups_build, snapshots_backfill
from funnel.services import leads_flag_cadence
from funnel.services.receivables import base_commission_rate, cents

# A public demo login, printed by seed_demo on purpose; never used outside demo data.
DEMO_PASSWORD = "crm-demo-2026"  # noqa: S105
TEAM_NAMES = ("华东一组", "华北二组", "华南三组")
FIXED_USERS = (("admin", Role.ADMIN), ("director", Role.DIRECTOR), ("support", Role.SUPPORT), ("finance", Role.FINANCE))
NUMBERED_USERNAME = r"^(manager|rep)[0-9]+$"
ROLE_ORDER = (Role.ADMIN, Role.DIRECTOR, Role.MANAGER, Role.REP, Role.SUPPORT, Role.FINANCE)
BATCH_SIZE = 500  # rows per INSERT; keeps each statement well under SQLite's variable limit
HISTORY_DAYS = 90
POOL_SHARE = 0.08
STALLED_SHARE = 0.15  # of open owned leads: the ones the 1/15/30 flags should catch
ABANDON_SHARE = 0.30  # of leads that stop before signing
IMPLEMENTED_SHARE = 0.40  # of signings
OUT_OF_FUNNEL_SHARE = 0.05  # of signings that skipped stages
STALLED_ACTIVITY_MAX_DAYS = 40


def _pairs(text: str) -> list[str]:
    """Split a run of two-character words: one compact line per list."""
    return [text[i : i + 2] for i in range(0, len(text), 2)]


STAFF_NAMES = _pairs(
    "张伟王芳李娜刘洋陈静杨帆赵磊黄敏周杰吴婷徐斌孙丽马超朱琳胡军郭佳何勇林倩高峰罗欣郑浩梁雪谢明宋颖唐亮韩梅冯涛"
)
CITIES = _pairs("苏州无锡杭州宁波南京上海合肥北京天津济南青岛广州深圳东莞佛山厦门福州成都重庆武汉长沙郑州西安")
ROADS = _pairs("人民建设中山解放长江黄河科技创业新华和平")
# Single characters: drawn straight from the strings.
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉建文斌宇浩凯婷雪琳晨欣鹏辉颖"
BRAND_CHARS = "恒信华泰盛达隆瑞安鑫宏远通博佳创联科新源嘉德丰汇金明启航润天正永诚久祥"
INDUSTRIES = {
    "制造业": ("精密机械", "机电设备", "模具", "汽车零部件", "五金制品"),
    "软件和信息技术": ("软件", "信息技术", "网络科技", "数据科技"),
    "批发零售": ("商贸", "贸易", "百货", "供应链管理"),
    "医疗健康": ("医疗器械", "生物科技", "医药"),
    "教育培训": ("教育科技", "职业培训", "文化传播"),
    "建筑工程": ("建设工程", "新型建材", "装饰工程"),
    "物流运输": ("物流", "货运代理", "仓储服务"),
    "金融服务": ("投资管理", "融资租赁", "保险代理"),
}
PRODUCTS = ("CRM 标准版", "CRM 专业版", "CRM 企业版", "移动销售套件", "数据分析模块", "实施服务包")
CONTACT_TITLES = {
    BuyingRole.DECISION_MAKER: ("总经理", "董事长", "采购总监"),
    BuyingRole.INFLUENCER: ("销售经理", "运营经理", "总经理助理"),
    BuyingRole.USER: ("销售主管", "客服主管", "业务员"),
    BuyingRole.TECHNICAL: ("IT经理", "技术总监", "信息部主任"),
    BuyingRole.FINANCE: ("财务经理", "财务总监", "会计"),
}
VISIT_SUMMARIES = {
    VisitKind.CALL: ("电话沟通需求，对方对客户管理感兴趣", "电话回访，确认已收到资料", "对方较忙，约好改天再谈"),
    VisitKind.VISIT: ("上门拜访，了解了现有销售流程", "拜访决策人，介绍了产品方案", "现场调研，整理了需求清单"),
    VisitKind.DEMO: ("为销售团队演示系统，反馈良好", "演示报表和漏斗分析功能", "与竞品对比演示，客户提出改进意见"),
    VisitKind.EMAIL: ("发送产品资料和成功案例", "邮件发送报价单", "邮件答复技术问题"),
    VisitKind.MEETING: ("与采购和技术人员讨论方案", "商务谈判，讨论价格和付款方式", "方案评审会，客户提出具体问题"),
}
NEXT_STEPS = ("发送报价单", "安排产品演示", "约决策人面谈", "提交方案书", "跟进试用情况", "确认合同条款", "电话回访")
NEED_NOTES = ("销售过程不透明，需要漏斗管理", "客户资料分散，需统一档案", "回款靠手工跟踪", "团队扩张，需要移动办公")
LOST_NOTES = ("项目预算被砍", "公司架构调整，项目暂停", "联系人离职，需求搁置")

# Referrals are rarer than yellow pages and the web, as in most B2B lead flows.
SOURCE_WEIGHTS = {
    Source.REFERRAL_CUSTOMER: 3,
    Source.REFERRAL_FRIEND: 3,
    Source.INBOUND_CALL: 6,
    Source.WEB_FORM: 12,
    Source.WEBSITE: 14,
    Source.EXHIBITION: 8,
    Source.ADVERTISING: 7,
    Source.PRESS: 3,
    Source.DATABASE: 12,
    Source.YELLOW_PAGES: 16,
    Source.OTHER: 4,
}
TIER_WEIGHTS = {Tier.STRATEGIC: 2, Tier.IMPORTANT: 3, Tier.GENERAL: 5}  # DOMAIN.md: about 2:3:5
SIZE_WEIGHTS = {
    CompanySize.MICRO: 2,
    CompanySize.SMALL: 4,
    CompanySize.MEDIUM: 3,
    CompanySize.LARGE: 2,
    CompanySize.ENTERPRISE: 1,
}
CREDIT_WEIGHTS = {Credit.GOOD: 5, Credit.FAIR: 3, Credit.POOR: 1, Credit.UNKNOWN: 2}
GRADE_WEIGHTS = {Grade.A: 25, Grade.B: 45, Grade.C: 30}
KIND_WEIGHTS = {VisitKind.CALL: 40, VisitKind.VISIT: 20, VisitKind.DEMO: 10, VisitKind.EMAIL: 15, VisitKind.MEETING: 15}
# DOMAIN.md: about 90% of visits end in progress or continuation; "closing" becomes order or no sale.
OUTCOME_WEIGHTS = {VisitOutcome.PROGRESS: 50, VisitOutcome.CONTINUATION: 40, "closing": 10}
LOST_WEIGHTS = {
    LostReason.REFUSED: 30,
    LostReason.UNREACHABLE: 20,
    LostReason.UNSUITABLE: 20,
    LostReason.BOUGHT_ELSEWHERE: 20,
    LostReason.OTHER: 10,
}


@dataclass(frozen=True)
class DemoSummary:
    """The demo logins by role code and the number of leads in each stage."""

    logins: list[tuple[str, list[str]]]
    stage_counts: dict[str, int]


@dataclass
class _Plan:
    """Shared state while drawing: the random source, the clock and the rows waiting for bulk_create."""

    rng: random.Random
    now: datetime
    shares: dict[str, float]
    support: User
    rows: dict[type, list] = field(default_factory=lambda: defaultdict(list))  # model -> unsaved rows
    company_names: set[str] = field(default_factory=set)


def demo_users() -> QuerySet[User]:
    """Return the users the demo creates, whatever --reps it ran with."""
    return User.objects.filter(Q(username__in=[name for name, _ in FIXED_USERS]) | Q(username__regex=NUMBERED_USERNAME))


def demo_present() -> bool:
    """Return whether the demo was already seeded (its admin exists)."""
    return User.objects.filter(username="admin").exists()


@transaction.atomic
def demo_build(*, leads: int, reps: int, seed: int, reset: bool = False, now: datetime | None = None) -> None:
    """Create the demo team, customers and funnel history; with reset, delete an earlier demo first."""
    if reset:
        demo_delete()
    rng = random.Random(seed)
    users = _create_staff(rng, reps)
    owners = [user for user in users if user.role == Role.REP]
    support = next(user for user in users if user.role == Role.SUPPORT)
    plan = _Plan(rng=rng, now=now or timezone.now(), shares=_reach_shares(rng), support=support)
    for index in range(leads):
        _add_lead(plan, index, owner=None if rng.random() < POOL_SHARE else rng.choice(owners))
    for model in (Customer, Contact, Lead, StageChange, Visit):  # parents first: children need their ids
        model.objects.bulk_create(plan.rows[model], batch_size=BATCH_SIZE)
    _backdate(support)
    _add_contracts(rng, plan.now, finance=next(user for user in users if user.role == Role.FINANCE))
    leads_flag_cadence(now=plan.now)
    # The weekly review's trend charts and company figures read these; build them as the jobs would.
    snapshots_backfill()
    rollups_build(now=plan.now)


@transaction.atomic
def demo_delete() -> None:
    """Delete the demo's visits, stage history, contracts, leads, customers, users and teams, children first."""
    users = demo_users()
    leads = Lead.objects.filter(Q(created_by__in=users) | Q(owner__in=users))
    customer_ids = {*leads.values_list("customer_id", flat=True), *users.values_list("customers", flat=True)}
    customer_ids.discard(None)
    # Visits, leads and customers PROTECT their users and customers, so they go first.
    Visit.objects.filter(Q(lead__in=leads) | Q(author__in=users)).delete()
    StageChange.objects.filter(lead__in=leads).delete()
    contracts = Contract.objects.filter(lead__in=leads)
    MoneyChange.objects.filter(contract__in=contracts).delete()
    Payment.objects.filter(installment__contract__in=contracts).delete()
    contracts.delete()  # with their installments and reminders
    leads.delete()
    ids = sorted(customer_ids)
    for start in range(0, len(ids), BATCH_SIZE):
        Contact.objects.filter(customer_id__in=ids[start : start + BATCH_SIZE]).delete()
        Customer.objects.filter(pk__in=ids[start : start + BATCH_SIZE]).delete()
    users.delete()
    Team.objects.filter(name__in=TEAM_NAMES).delete()


def demo_summary() -> DemoSummary:
    """Return the demo logins grouped by role and the lead count per stage."""
    by_role: dict[str, list[str]] = {}
    for username, role in demo_users().values_list("username", "role"):
        by_role.setdefault(role, []).append(username)
    logins = [
        (role, sorted(by_role[role], key=lambda name: (len(name), name))) for role in ROLE_ORDER if role in by_role
    ]
    counts = dict(Lead.objects.order_by().values_list("stage").annotate(n=Count("pk")))
    return DemoSummary(logins=logins, stage_counts={stage: counts.get(stage, 0) for stage in Stage.values})


def _pick(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN_CHARS, k=rng.randint(1, 2)))


def _mobile(rng: random.Random) -> str:
    return f"1{rng.randint(3, 9)}{rng.randint(0, 999_999_999):09d}"


def _create_staff(rng: random.Random, reps: int) -> list[User]:
    teams = Team.objects.bulk_create([Team(name=name) for name in TEAM_NAMES])
    specs = [("admin", Role.ADMIN, None), ("director", Role.DIRECTOR, None)]
    specs += [(f"manager{i + 1}", Role.MANAGER, team) for i, team in enumerate(teams)]
    specs += [(f"rep{k + 1}", Role.REP, teams[k * len(teams) // reps]) for k in range(reps)]  # 20 reps: 7/7/6
    specs += [("support", Role.SUPPORT, None), ("finance", Role.FINANCE, None)]
    names = list(STAFF_NAMES)
    while len(names) < len(specs):
        if (name := _person_name(rng)) not in names:
            names.append(name)
    users = [
        User(username=username, role=role, team=team, display_name=name, email=f"{username}@demo.example.com")
        for (username, role, team), name in zip(specs, names, strict=False)
    ]
    users[0].is_staff = users[0].is_superuser = True  # the admin
    users[0].set_password(DEMO_PASSWORD)
    for user in users[1:]:
        user.password = users[0].password  # one hash for all: PBKDF2 per user would take seconds
    User.objects.bulk_create(users)
    for team, manager in zip(teams, (u for u in users if u.role == Role.MANAGER), strict=True):
        team.manager = manager
    Team.objects.bulk_update(teams, ["manager"])
    return users


def _reach_shares(rng: random.Random) -> dict[str, float]:
    """Return the share of resources reaching each stage: the ideal plus noise, never rising down the funnel."""
    ideal_shares, shares, ceiling = ideal("reach_share"), {}, 1.0
    for stage in FUNNEL_ORDER[1 : FUNNEL_ORDER.index(Stage.SIGNED) + 1]:
        ceiling = min(ceiling, ideal_shares.get(stage, ceiling) * rng.uniform(0.9, 1.1))
        shares[stage] = ceiling
    return shares


def _path(rng: random.Random, shares: dict[str, float], pooled: bool) -> tuple[list[str], int | None]:
    """Return the stages a lead went through and the index of an out-of-funnel jump, if any."""
    if pooled:  # the pool holds fresh resources and leads given up early
        stop = rng.choices((1, 2, 3), weights=(50, 25, 25))[0]
        return [*FUNNEL_ORDER[: min(stop, 2)], *([Stage.ABANDONED] if stop == 3 else [])], None
    draw = rng.random()
    reached = [stage for stage, share in shares.items() if draw < share]
    path = list(FUNNEL_ORDER[: len(reached) + 1])
    jump = None
    if path[-1] == Stage.SIGNED:
        if rng.random() < OUT_OF_FUNNEL_SHARE:
            path = [*path[: rng.randint(1, 4)], Stage.SIGNED]
            jump = len(path) - 1
        if rng.random() < IMPLEMENTED_SHARE:
            path.append(Stage.IMPLEMENTED)
    elif rng.random() < ABANDON_SHARE:
        path.append(Stage.ABANDONED)
    return path, jump


def _step_days(rng: random.Random, path: list[str]) -> list[float]:
    days_to_next = ideal("days_to_next")
    steps = []
    for stage, following in pairwise(path):
        if following == Stage.ABANDONED:
            steps.append(rng.uniform(7, 30))  # left to cool before someone gives up
        else:
            steps.append(max(days_to_next.get(stage, 1), 0.1) * rng.uniform(0.5, 3.0))
    return steps


def _age_days(rng: random.Random, history_days: float, anytime: bool, stalled: bool) -> float:
    """Return how old the lead is, so its history ends before now and its 30-day flag comes out as planned."""
    verdict_days = settings.VERDICT_AFTER_DAYS
    if anytime:
        low, high = history_days, HISTORY_DAYS
    elif stalled:
        low, high = history_days + verdict_days + 1, HISTORY_DAYS
    else:
        low, high = history_days, history_days + verdict_days - 1
    high = min(high, HISTORY_DAYS)
    return rng.uniform(min(low, high), high)


def _add_customer(plan: _Plan, index: int, owner: User | None) -> tuple[Customer, str]:
    rng = plan.rng
    industry = rng.choice(list(INDUSTRIES))
    while True:  # one archive per company: duplicate names would trip duplicate detection
        city, brand, word = (
            rng.choice(CITIES),
            "".join(rng.sample(BRAND_CHARS, 2)),
            rng.choice(INDUSTRIES[industry]),
        )
        name = f"{city}{brand}{word}有限公司"
        if name not in plan.company_names:
            break
    plan.company_names.add(name)
    phone, email = _mobile(rng), f"info@c{index:05d}.example.com"
    customer = Customer(
        name=name,
        name_key=normalize.company_key(name),
        phone=phone,
        phone_key=normalize.phone_key(phone),
        email=email,
        email_key=normalize.email_key(email),
        city=city,
        industry=industry,
        owner=owner,
        address=f"{city}市{rng.choice(_pairs(ROADS))}路{rng.randint(1, 999)}号",
        size=_pick(rng, SIZE_WEIGHTS),
        credit=_pick(rng, CREDIT_WEIGHTS),
        tier=_pick(rng, TIER_WEIGHTS),
    )
    plan.rows[Customer].append(customer)
    return customer, brand + word


def _add_contacts(plan: _Plan, customer: Customer, index: int) -> list[Contact]:
    rng = plan.rng
    contacts = []
    for role in rng.sample(list(BuyingRole), rng.randint(1, 3)):
        phone, email = _mobile(rng), f"{role.value}@c{index:05d}.example.com"
        contacts.append(
            Contact(
                customer=customer,
                name=_person_name(rng),
                title=rng.choice(CONTACT_TITLES[role]),
                role=role,
                phone=phone,
                phone_key=normalize.phone_key(phone),
                email=email,
                email_key=normalize.email_key(email),
            )
        )
    plan.rows[Contact] += contacts
    return contacts


def _add_lead(plan: _Plan, index: int, owner: User | None) -> None:
    rng, now = plan.rng, plan.now
    customer, short_name = _add_customer(plan, index, owner)
    contacts = _add_contacts(plan, customer, index)
    path, jump = _path(rng, plan.shares, pooled=owner is None)
    steps = _step_days(rng, path)
    closed = path[-1] in CLOSED_STAGES
    stalled = owner is not None and not closed and rng.random() < STALLED_SHARE
    created_at = now - timedelta(days=_age_days(rng, sum(steps), anytime=closed or owner is None, stalled=stalled))
    times = [created_at]
    for days in steps:
        times.append(min(times[-1] + timedelta(days=days), now))  # a safety net: the age already leaves room
    lead = Lead(
        customer=customer,
        owner=owner,
        created_by=plan.support,
        stage=path[-1],
        source=_pick(rng, SOURCE_WEIGHTS),
        created_at=created_at,
        stage_entered_at=times[-1],
        last_progress_at=times[-1],
        is_out_of_funnel=jump is not None,
        closed_at=times[-1] if closed else None,
    )
    depth = FUNNEL_ORDER.index(path[-2] if path[-1] == Stage.ABANDONED else path[-1])
    signed_at = times[path.index(Stage.SIGNED)] if Stage.SIGNED in path else None
    _qualify(rng, lead, depth, short_name, _close_date(rng, lead, signed_at, now))
    if signed_at is not None and lead.stage != Stage.ABANDONED:  # 签约 needs the contract's amount and date
        lead.signed_amount = lead.expected_amount
        lead.signed_on = timezone.localdate(signed_at)
    if lead.stage == Stage.ABANDONED:
        lead.lost_reason = _pick(rng, LOST_WEIGHTS)
        lead.lost_note = rng.choice(LOST_NOTES) if lead.lost_reason == LostReason.OTHER else ""
    plan.rows[Lead].append(lead)
    plan.rows[StageChange] += [
        StageChange(
            lead=lead,
            from_stage=path[i - 1] if i else "",
            to_stage=stage,
            actor=owner,
            changed_at=times[i],
            is_out_of_funnel=i == jump,
        )
        for i, stage in enumerate(path)
    ]
    if owner is not None:
        _add_visits(plan, lead, contacts, stalled)


def _close_date(rng: random.Random, lead: Lead, signed_at: datetime | None, now: datetime) -> date:
    if signed_at is not None:
        return timezone.localdate(signed_at)
    if lead.closed_at is not None:  # the date the lost deal was meant to close
        return timezone.localdate(lead.closed_at) + timedelta(days=rng.randint(0, 30))
    return timezone.localdate(now) + timedelta(days=rng.randint(7, 90))


def _qualify(rng: random.Random, lead: Lead, depth: int, short_name: str, close_date: date) -> None:
    """Fill grade, product, amount, BANT and score, knowing more the further the lead got."""
    if depth >= FUNNEL_ORDER.index(Stage.GRADED):
        lead.grade, lead.product = _pick(rng, GRADE_WEIGHTS), rng.choice(PRODUCTS)
    lead.title = f"{short_name} {lead.product}".strip()
    if depth >= FUNNEL_ORDER.index(Stage.LEAD):
        lead.expected_amount = Decimal(rng.randint(20, 800) * 1000)
        lead.expected_close_date = close_date
    # DOMAIN.md: no lead reaches 意向 without Need and Authority known.
    intention = depth >= FUNNEL_ORDER.index(Stage.INTENTION)
    lead.need_known = intention or rng.random() < 0.15 * depth
    lead.authority_known = intention or rng.random() < 0.1 * depth
    lead.budget_known = rng.random() < 0.15 * depth
    lead.need_note = rng.choice(NEED_NOTES) if lead.need_known else ""
    if lead.budget_known and lead.expected_amount is not None:
        thousands = int(lead.expected_amount) // 1000
        lead.budget_amount = Decimal(rng.randint(thousands * 8 // 10, thousands * 12 // 10) * 1000)
    if lead.expected_close_date and rng.random() < 0.15 * depth:
        lead.timeline_date = lead.expected_close_date
    # Placeholder points so lists sort sensibly; the scoring issue recomputes every score from its rules.
    points = 10 + 11 * depth + {Grade.A: 15, Grade.B: 8}.get(lead.grade, 0) + rng.randint(-5, 5)
    lead.score = max(0, min(100, points // 2 if lead.stage == Stage.ABANDONED else points))


def _add_visits(plan: _Plan, lead: Lead, contacts: list[Contact], stalled: bool) -> None:
    """Log the owner's visits; an open lead gets a recent one unless it is meant to look stalled."""
    rng, now, followup_days = plan.rng, plan.now, settings.FOLLOW_UP_AFTER_DAYS
    age_days = (now - lead.created_at).total_seconds() / 86400
    if lead.closed_at is not None:
        end, count = lead.closed_at, rng.randint(0, 6)
    elif stalled:
        end = now - timedelta(days=rng.uniform(followup_days + 1, STALLED_ACTIVITY_MAX_DAYS))
        end, count = max(end, lead.created_at + timedelta(hours=1)), rng.randint(1, 4)
    else:
        end = now - timedelta(days=rng.uniform(0, min(followup_days - 1, age_days)))
        count = rng.randint(1 if age_days > followup_days - 1 else 0, 6)
    if count == 0:
        return
    span = (end - lead.created_at).total_seconds()
    moments = sorted(lead.created_at + timedelta(seconds=rng.uniform(0, span)) for _ in range(count - 1))
    won = lead.stage in (Stage.SIGNED, Stage.IMPLEMENTED)
    for at in [*moments, end]:
        kind, outcome = _pick(rng, KIND_WEIGHTS), _pick(rng, OUTCOME_WEIGHTS)
        if outcome == "closing":
            outcome = VisitOutcome.ORDER if won else VisitOutcome.NO_SALE
        contact = rng.choice(contacts)
        plan.rows[Visit].append(
            Visit(
                lead=lead,
                author=lead.owner,
                contact=contact,
                kind=kind,
                outcome=outcome,
                occurred_at=at,
                summary=f"{rng.choice(VISIT_SUMMARIES[kind])}（{contact.name}，{contact.title}）",
                next_step=rng.choice(NEXT_STEPS),
                next_step_date=timezone.localdate(at) + timedelta(rng.randint(2, 14)),
            )
        )
    lead.last_activity_at = end
    if lead.is_open:
        last = plan.rows[Visit][-1]
        lead.next_step, lead.next_step_date = last.next_step, last.next_step_date


def _add_contracts(rng: random.Random, now: datetime, *, finance: User) -> None:
    """Give every signed lead its contract: 1-3 monthly installments and the payments made so far.

    Implemented leads were paid in full before acceptance; signed ones paid most of what fell due,
    so finance finds overdue installments in every aging bucket and a few payments to confirm.
    """
    signed = Lead.objects.filter(stage__in=(Stage.SIGNED, Stage.IMPLEMENTED), signed_amount__gt=0).order_by("pk")
    today, rate = timezone.localdate(now), base_commission_rate()
    plans = []
    for lead in signed:
        amount, count = lead.signed_amount, rng.randint(1, 3)
        parts = [cents(amount / count)] * (count - 1)
        parts.append(amount - sum(parts))
        dues = [lead.signed_on + timedelta(days=30 * number) for number in range(count)]
        plans.append((lead, parts, dues))
    contracts = Contract.objects.bulk_create(
        [
            Contract(
                lead=lead,
                owner_id=lead.owner_id,
                created_by_id=lead.owner_id,
                amount=lead.signed_amount,
                signed_on=lead.signed_on,
                commission_rate=rate,
                implementation_accepted_at=lead.closed_at if lead.stage == Stage.IMPLEMENTED else None,
            )
            for lead, _parts, _dues in plans
        ],
        batch_size=BATCH_SIZE,
    )
    installments, payments = [], []
    for contract, (lead, parts, dues) in zip(contracts, plans, strict=True):
        for number, (part, due) in enumerate(zip(parts, dues, strict=True), start=1):
            installment = Installment(contract=contract, number=number, due_on=due, amount=part)
            installments.append(installment)
            if lead.stage == Stage.IMPLEMENTED:
                paid_on = min(due, timezone.localdate(lead.closed_at))
            elif due <= today and rng.random() < 0.7:
                paid_on = min(today, due + timedelta(days=rng.randint(-5, 20)))
            else:
                continue  # not due yet, or overdue: receivables to chase
            confirmed = lead.stage == Stage.IMPLEMENTED or (today - paid_on).days > 7  # finance confirms weekly
            if confirmed:
                installment.paid_amount, installment.paid_on = part, paid_on
                contract.paid_amount += part
            at = timezone.make_aware(datetime.combine(paid_on, time(10)))
            payments.append(
                Payment(
                    installment=installment,
                    amount=part,
                    paid_on=paid_on,
                    status=Payment.Status.CONFIRMED if confirmed else Payment.Status.RECORDED,
                    recorded_by_id=lead.owner_id,
                    recorded_at=at,
                    confirmed_by=finance if confirmed else None,
                    confirmed_at=at if confirmed else None,
                    reference=f"银行回单 {lead.pk:06d}-{number}",
                )
            )
    Installment.objects.bulk_create(installments, batch_size=BATCH_SIZE)
    Payment.objects.bulk_create(payments, batch_size=BATCH_SIZE)
    Contract.objects.bulk_update(contracts, ["paid_amount"], batch_size=BATCH_SIZE)


def _backdate(support: User) -> None:
    """Move auto_now(_add) stamps, which bulk_create sets to now, back to the simulated history."""
    leads = Lead.objects.filter(created_by=support)
    first_lead = Lead.objects.filter(customer=OuterRef("pk")).order_by("created_at").values("created_at")[:1]
    Customer.objects.filter(leads__in=leads).update(created_at=Subquery(first_lead))
    customer_created = Customer.objects.filter(pk=OuterRef("customer_id")).values("created_at")[:1]
    Contact.objects.filter(customer__leads__in=leads).update(created_at=Subquery(customer_created))
    Visit.objects.filter(lead__in=leads).update(created_at=F("occurred_at"))
    leads.update(updated_at=F("stage_entered_at"))
    leads.filter(last_activity_at__gt=F("stage_entered_at")).update(updated_at=F("last_activity_at"))
