"""Draw one chunk of the benchmark funnel as rows in PostgreSQL's COPY text format (see datagen.py).

Every value comes from one random.Random seeded by the chunk, so a seed always gives the same funnel.
Distributions follow funnel/ideal.py with per-rep noise; some leads stall, some are abandoned, and
signed ones carry a contract with installments and the payments confirmed against them.
"""

import json
import math
import random
from bisect import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate, pairwise

from crm import normalize
from crm.choices import FUNNEL_ORDER, BuyingRole, Confidence, LostReason, Stage, VisitOutcome
from funnel import demo
from funnel.ideal import ideal

DAY = 86400.0
HISTORY_DAYS = 730  # closed leads spread over two years; open ones are recent or stalled
POOL_SHARE = 0.08
STALLED_SHARE = 0.15  # of open owned leads: no follow-up for 16-40 days
OUT_OF_FUNNEL_SHARE = 0.05  # of signings
NULL = "\\N"
WORDS = [(industry, word) for industry, words in demo.INDUSTRIES.items() for word in words]
NAME_STRIDE = 1_000_003  # a prime: index -> name is a bijection that looks shuffled

# (table, columns drawn per row, constant tail appended to every row)
TABLES = {
    "crm_customer": (
        "id name name_key phone phone_key email email_key address city industry size credit tier owner_id "
        "created_at updated_at business_status notes",
        "operating\t",
    ),
    "crm_contact": ("id customer_id name title role phone phone_key email email_key created_at notes", ""),
    "crm_lead": (
        "id customer_id owner_id created_by_id title stage grade source product expected_amount "
        "expected_close_date budget_known budget_amount budget_confidence budget_learned_on authority_known "
        "authority_note authority_confidence authority_learned_on need_known need_note need_confidence "
        "need_learned_on timeline_date timeline_confidence timeline_learned_on score stage_entered_at "
        "last_activity_at last_progress_at next_step next_step_date is_out_of_funnel lost_reason lost_note "
        "closed_at signed_amount signed_on attributes created_at updated_at "
        "win_probability scored_at is_followup_overdue is_verdict_due is_slow message utm_campaign utm_medium "
        "utm_source",
        "\\N\t\\N\tf\tf\tf\t\t\t\t",
    ),
    "crm_contract": (
        "id lead_id owner_id created_by_id amount signed_on status commission_rate paid_amount "
        "implementation_accepted_at created_at updated_at terms cancel_reason collection_note",
        "\t\t",
    ),
    "crm_installment": ("id contract_id number due_on amount paid_amount paid_on", ""),
    "crm_payment": (
        "id installment_id amount paid_on status recorded_by_id recorded_at confirmed_by_id confirmed_at "
        "reference note reject_reason",
        "\t",
    ),
    "crm_stagechange": ("lead_id from_stage to_stage actor_id is_out_of_funnel changed_at reason", ""),
    "crm_visit": (
        "lead_id author_id contact_id kind outcome summary next_step next_step_date occurred_at created_at form_token",
        "\\N",
    ),
}


@dataclass(frozen=True)
class Setup:
    """What every worker needs to draw its chunks: the same for all, so chunks agree."""

    dsn: dict
    now: float
    utc_offset: float  # the configured zone's offset, for local dates (Asia/Shanghai has no DST)
    seed: int
    brand_len: int
    open_share: float
    reps: tuple[int, ...]
    rep_shares: dict[int, tuple[float, ...]]  # reach share of graded..signed, per rep
    rep_open: dict[int, float]
    support_ids: tuple[int, ...]
    finance_id: int


def company_name(index: int, brand_len: int) -> tuple[str, str, str, str]:
    """Return (name, city, industry, short name) for a company index; distinct indexes give distinct keys."""
    radices = (len(demo.CITIES), *([len(demo.BRAND_CHARS)] * brand_len), len(WORDS))
    size = math.prod(radices)
    code = (index * NAME_STRIDE + 12345) % size
    digits = []
    for radix in radices:
        code, digit = divmod(code, radix)
        digits.append(digit)
    city = demo.CITIES[digits[0]]
    brand = "".join(demo.BRAND_CHARS[d] for d in digits[1:-1])
    industry, word = WORDS[digits[-1]]
    return f"{city}{brand}{word}有限公司", city, industry, brand + word


def brand_length_for(leads: int) -> int:
    """Return the shortest brand (in characters) that still gives every lead its own company."""
    for length in (2, 3):
        if leads <= len(demo.CITIES) * len(demo.BRAND_CHARS) ** length * len(WORDS):
            return length
    raise ValueError("Too many leads for the company name space.")


def _chooser(rng: random.Random, weights: dict):
    """Return a function drawing a key by weight: bisect over cumulative weights (faster than rng.choices)."""
    keys, cumulative = list(weights), list(accumulate(weights.values()))
    total, rnd = cumulative[-1], rng.random
    return lambda: keys[bisect(cumulative, rnd() * total)]


class Chunk:
    """Draws one chunk's rows (text format for COPY) for leads start+1..stop."""

    def __init__(self, setup: Setup, start: int):
        self.s = setup
        self.rng = rng = random.Random(setup.seed * 1_000_003 + start)
        self.rows = {table: [] for table in TABLES}
        self.days: dict[int, str] = {}
        self.epoch = date(1970, 1, 1)
        self.pick = {
            name: _chooser(rng, weights)
            for name, weights in (
                ("source", demo.SOURCE_WEIGHTS),
                ("tier", demo.TIER_WEIGHTS),
                ("size", demo.SIZE_WEIGHTS),
                ("credit", demo.CREDIT_WEIGHTS),
                ("grade", demo.GRADE_WEIGHTS),
                ("kind", demo.KIND_WEIGHTS),
                ("outcome", demo.OUTCOME_WEIGHTS),
                ("lost", demo.LOST_WEIGHTS),
                ("confidence", {Confidence.LOW: 2, Confidence.MEDIUM: 5, Confidence.HIGH: 3}),
            )
        }
        self.days_to_next = ideal("days_to_next")

    def ts(self, epoch: float) -> str:
        return datetime.fromtimestamp(epoch, UTC).isoformat()

    def day(self, epoch: float, plus: int = 0) -> str:
        """Return the local date of the moment, plus some days, as text (cached: few distinct days)."""
        number = int((epoch + self.s.utc_offset) // DAY) + plus
        text = self.days.get(number)
        if text is None:
            text = self.days[number] = (self.epoch + timedelta(days=number)).isoformat()
        return text

    def person(self) -> str:
        rng = self.rng
        return rng.choice(demo.SURNAMES) + "".join(rng.choices(demo.GIVEN_CHARS, k=rng.randint(1, 2)))

    def mobile(self) -> str:
        return f"1{self.rng.randint(3, 8)}{self.rng.randint(0, 999_999_999):09d}"

    def lead(self, gid: int) -> None:
        """Draw one lead with its customer, contacts, stage history and visits."""
        s, rng = self.s, self.rng
        owner = None if rng.random() < POOL_SHARE else rng.choice(s.reps)
        path, jump, is_open, stalled = self.path(owner)
        steps = self.steps(path)
        history = sum(steps)
        if owner is None or not is_open:
            age = rng.uniform(history, max(history, HISTORY_DAYS))
        elif stalled:  # no progress for over 30 days: the verdict flag should catch it
            age = history + rng.uniform(31, 90)
        else:  # in the current stage for up to 1.5 times the ideal: some flagged slow, most not
            age = history + min(29, self.days_to_next.get(path[-1], 5) * rng.uniform(0, 1.5))
        times = list(accumulate((s.now - age * DAY, *(days * DAY for days in steps))))
        owner_id = NULL if owner is None else str(owner)
        name, city, industry, short = company_name(gid - 1, s.brand_len)
        contacts = self.customer(gid, name, city, industry, owner_id, times[0])
        for i, stage in enumerate(path):
            self.rows["crm_stagechange"].append(
                f"{gid}\t{path[i - 1] if i else ''}\t{stage}\t{owner_id}\t{'t' if i == jump else 'f'}\t"
                f"{self.ts(times[i])}\t"
            )
        last = None if owner is None else self.visits(gid, owner_id, contacts, path, times, is_open, stalled)
        entered = times[-1]
        updated = max(entered, last[0]) if last else entered
        next_step = last[1:] if last and is_open else ("", NULL)
        lost = self.pick["lost"]() if path[-1] == Stage.ABANDONED else ""
        signing = self.signing(path, times)
        if owner is not None and Stage.SIGNED in path:
            self.contract(gid, owner_id, int(signing[0]), path, times)
        columns = (
            str(gid),
            str(gid),
            owner_id,
            str(rng.choice(s.support_ids)),
            *self.qualify(path, times, is_open, short),
            self.ts(entered),
            NULL if last is None else self.ts(last[0]),
            self.ts(entered),
            *next_step,
            "t" if jump is not None else "f",
            lost,
            rng.choice(demo.LOST_NOTES) if lost == LostReason.OTHER else "",
            NULL if is_open else self.ts(entered),
            *signing,
            json.dumps({"industry": industry, "employees": rng.randint(5, 3000)}, ensure_ascii=False),
            self.ts(times[0]),
            self.ts(updated),
        )
        self.rows["crm_lead"].append("\t".join(columns) + "\t" + TABLES["crm_lead"][1])

    def qualify(self, path: list[str], times: list[float], is_open: bool, short: str) -> list[str]:
        """Return title, stage, grade, source, product, amount, close date, BANT and score: more known deeper in."""
        rng, pick = self.rng, self.pick
        depth = FUNNEL_ORDER.index(path[-2] if path[-1] == Stage.ABANDONED else path[-1])
        created, entered = times[0], times[-1]
        grade = pick["grade"]() if depth >= 1 else ""
        product = rng.choice(demo.PRODUCTS) if grade else ""
        amount = rng.randint(20, 800) * 1000 if depth >= 3 else None
        if Stage.SIGNED in path:
            close_date = self.day(times[path.index(Stage.SIGNED)])
        elif not is_open:
            close_date = self.day(entered, rng.randint(0, 30))
        else:
            close_date = self.day(self.s.now, rng.randint(7, 90))
        intention = depth >= FUNNEL_ORDER.index(Stage.INTENTION)  # DOMAIN.md: Need and Authority known by 意向
        budget = amount is not None and rng.random() < 0.15 * depth
        authority = intention or rng.random() < 0.1 * depth
        need = intention or rng.random() < 0.15 * depth
        timeline = amount is not None and rng.random() < 0.15 * depth
        learned = self.day(created + (entered - created) * rng.uniform(0.3, 1.0))

        def bant(known: bool, value: str, blank: str) -> list[str]:
            return [value, pick["confidence"](), learned] if known else [blank, "", NULL]

        points = 10 + 11 * depth + {"A": 15, "B": 8}.get(grade, 0) + rng.randint(-5, 5)
        return [
            f"{short} {product}".strip(),
            path[-1],
            grade,
            pick["source"](),
            product,
            NULL if amount is None else str(amount),
            NULL if amount is None else close_date,
            "t" if budget else "f",
            *bant(budget, str(rng.randint(amount * 8, amount * 12) // 10_000 * 1000) if budget else "", NULL),
            "t" if authority else "f",
            *bant(authority, rng.choice(demo.CONTACT_TITLES[BuyingRole.DECISION_MAKER]), ""),
            "t" if need else "f",
            *bant(need, rng.choice(demo.NEED_NOTES), ""),
            *bant(timeline, close_date, NULL),
            str(max(0, min(100, points // 2 if path[-1] == Stage.ABANDONED else points))),
        ]

    def signing(self, path: list[str], times: list[float]) -> tuple[str, str]:
        """Return the contract amount and date that 签约 requires, for leads that signed."""
        if Stage.SIGNED not in path:
            return NULL, NULL
        return str(self.rng.randint(50, 900) * 1000), self.day(times[path.index(Stage.SIGNED)])

    def path(self, owner: int | None) -> tuple[list[str], int | None, bool, bool]:
        """Return (stages passed, index of an out-of-funnel jump, is open, is stalled)."""
        rng = self.rng
        if owner is None:  # the pool holds fresh resources and leads given up early
            stop = rng.choices((1, 2, 3), weights=(50, 25, 25))[0]
            return [*FUNNEL_ORDER[: min(stop, 2)], *([Stage.ABANDONED] if stop == 3 else [])], None, stop < 3, False
        draw = rng.random()
        reached = sum(draw < share for share in self.s.rep_shares[owner])
        path, jump = list(FUNNEL_ORDER[: reached + 1]), None
        if path[-1] == Stage.SIGNED and rng.random() < OUT_OF_FUNNEL_SHARE:
            path = [*path[: rng.randint(1, 4)], Stage.SIGNED]
            jump = len(path) - 1
        is_open = rng.random() < self.s.rep_open[owner]
        if not is_open:
            path.append(Stage.IMPLEMENTED if path[-1] == Stage.SIGNED else Stage.ABANDONED)
        return path, jump, is_open, is_open and rng.random() < STALLED_SHARE

    def steps(self, path: list[str]) -> list[float]:
        uniform = self.rng.uniform
        return [
            uniform(7, 30) if following == Stage.ABANDONED else self.days_to_next.get(stage, 1) * uniform(0.5, 3.0)
            for stage, following in pairwise(path)
        ]

    def contract(self, gid: int, owner_id: str, amount: int, path: list[str], times: list[float]) -> None:
        """Write the signed lead's contract, its 1-3 installments and the confirmed payments against them.

        An implemented lead was paid in full before acceptance; a signed one has paid some of what fell due.
        """
        rng, now = self.rng, self.s.now
        signed_at = times[path.index(Stage.SIGNED)]
        implemented = path[-1] == Stage.IMPLEMENTED
        count = rng.randint(1, 3)
        paid_total = 0
        for number in range(1, count + 1):
            installment_id = 3 * gid - 3 + number
            part = amount // count if number < count else amount - amount // count * (count - 1)
            due = signed_at + 30 * DAY * (number - 1)
            if implemented:
                paid_at = min(times[-1], signed_at + rng.uniform(0, 10) * DAY)
            elif due < now and rng.random() < 0.7:  # the rest is overdue: receivables to chase
                paid_at = min(now, due + rng.uniform(-5, 20) * DAY)
            else:
                paid_at = None
            paid, paid_on = (0, NULL) if paid_at is None else (part, self.day(paid_at))
            self.rows["crm_installment"].append(
                f"{installment_id}\t{gid}\t{number}\t{self.day(due)}\t{part}\t{paid}\t{paid_on}"
            )
            if paid_at is not None:
                paid_total += part
                stamp = self.ts(paid_at)
                self.rows["crm_payment"].append(
                    f"{installment_id}\t{installment_id}\t{part}\t{paid_on}\tconfirmed\t{owner_id}\t{stamp}\t"
                    f"{self.s.finance_id}\t{stamp}\tBANK{installment_id:010d}\t\t"
                )
        accepted = self.ts(times[-1]) if implemented else NULL
        self.rows["crm_contract"].append(
            f"{gid}\t{gid}\t{owner_id}\t{owner_id}\t{amount}\t{self.day(signed_at)}\tactive\t3.00\t{paid_total}\t"
            f"{accepted}\t{self.ts(signed_at)}\t{self.ts(times[-1])}\t" + TABLES["crm_contract"][1]
        )

    def customer(self, gid: int, name: str, city: str, industry: str, owner_id: str, created: float) -> list:
        """Write the customer and its 1-3 contacts; return the contacts as (id, name, title)."""
        rng, pick, at = self.rng, self.pick, self.ts(created)
        phone, email = self.mobile(), f"info@c{gid}.example.com"
        address = f"{city}市{rng.choice(demo.ROADS)}路{rng.randint(1, 999)}号"
        self.rows["crm_customer"].append(
            f"{gid}\t{name}\t{normalize.company_key(name)}\t{phone}\t{phone}\t{email}\t{email}\t{address}\t{city}\t"
            f"{industry}\t{pick['size']()}\t{pick['credit']()}\t{pick['tier']()}\t{owner_id}\t{at}\t{at}\t"
            + TABLES["crm_customer"][1]
        )
        contacts = []
        for j, role in enumerate(rng.sample(list(BuyingRole), rng.randint(1, 3))):
            contact_id, person, title = 3 * gid - 2 + j, self.person(), rng.choice(demo.CONTACT_TITLES[role])
            phone, email = self.mobile(), f"{role.value}@c{gid}.example.com"
            self.rows["crm_contact"].append(
                f"{contact_id}\t{gid}\t{person}\t{title}\t{role.value}\t{phone}\t{phone}\t{email}\t{email}\t{at}\t"
            )
            contacts.append((contact_id, person, title))
        return contacts

    def visits(self, gid, owner_id, contacts, path, times, is_open, stalled) -> tuple[float, str, str] | None:
        """Write the owner's visits; return the last one's (moment, next step, next step date)."""
        rng, now, created = self.rng, self.s.now, times[0]
        if not is_open:
            end, count = times[-1], rng.randint(1, 10)
        elif stalled:
            end, count = max(now - rng.uniform(16, 40) * DAY, created + 3600), rng.randint(1, 4)
        else:
            end, count = now - rng.uniform(0, min(14, (now - created) / DAY)) * DAY, rng.randint(2, 8)
        moments = sorted(rng.uniform(created, end) for _ in range(count - 1))
        moments.append(end)
        won = path[-1] in (Stage.SIGNED, Stage.IMPLEMENTED)
        kinds, outcomes, rows = self.pick["kind"], self.pick["outcome"], self.rows["crm_visit"]
        for at in moments:
            kind, outcome = kinds(), outcomes()
            if outcome == "closing":
                outcome = VisitOutcome.ORDER if won else VisitOutcome.NO_SALE
            contact_id, person, title = rng.choice(contacts)
            step, step_date, stamp = rng.choice(demo.NEXT_STEPS), self.day(at, rng.randint(2, 14)), self.ts(at)
            summary = f"{rng.choice(demo.VISIT_SUMMARIES[kind])}（{person}，{title}）"
            rows.append(
                f"{gid}\t{owner_id}\t{contact_id}\t{kind}\t{outcome}\t{summary}\t{step}\t{step_date}\t{stamp}\t"
                f"{stamp}\t\\N"
            )
        return end, step, step_date
