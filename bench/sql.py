"""Hand-written SQL for each aggregate page and job: the physical limit our ORM code is compared with.

Each statement returns (or writes) what the page or job needs, no more; parameters are psycopg2's.
"""

from funnel.ideal import ideal

LEAD_ROW = """
SELECT l.*, c.*, u.*
FROM crm_lead l
JOIN crm_customer c ON c.id = l.customer_id
LEFT JOIN accounts_user u ON u.id = l.owner_id
"""

BOARD = """
SELECT l.id, l.stage, l.grade, l.score, l.expected_amount, l.stage_entered_at, l.next_step, l.next_step_date,
       l.is_followup_overdue, l.is_verdict_due, l.is_out_of_funnel, l.is_slow, l.owner_id, c.id, c.name, c.tier
FROM crm_lead l JOIN crm_customer c ON c.id = l.customer_id
WHERE l.owner_id = %(rep)s AND l.stage IN %(open)s
ORDER BY l.is_verdict_due DESC, l.is_followup_overdue DESC, l.score DESC, l.id
"""

# The best plan by hand: each half of `own OR pool` counted and paged on its own index, then merged.
REP_LIST_COUNT = (
    "SELECT (SELECT count(*) FROM crm_lead WHERE owner_id = %(rep)s)"
    " + (SELECT count(*) FROM crm_lead WHERE owner_id IS NULL)"
)
REP_LIST_PAGE = LEAD_ROW + (  # noqa: S608 (constants only)
    "WHERE l.id IN ("
    "(SELECT id FROM crm_lead WHERE owner_id = %(rep)s ORDER BY updated_at DESC, id DESC LIMIT %(limit)s)"
    " UNION ALL "
    "(SELECT id FROM crm_lead WHERE owner_id IS NULL ORDER BY updated_at DESC, id DESC LIMIT %(limit)s)"
    ") ORDER BY l.updated_at DESC, l.id DESC LIMIT %(limit)s"
)

TEAM_FILTER = "(u.team_id = %(team)s OR l.owner_id IS NULL) AND l.stage = %(stage)s AND l.grade = %(grade)s"
TEAM_FILTERED_COUNT = """
SELECT count(*) FROM crm_lead l LEFT JOIN accounts_user u ON u.id = l.owner_id
WHERE (u.team_id = %(team)s OR l.owner_id IS NULL) AND l.stage = %(stage)s AND l.grade = %(grade)s
"""
TEAM_FILTERED_PAGE = LEAD_ROW + "WHERE " + TEAM_FILTER + " ORDER BY l.score DESC LIMIT %(limit)s"

ALL_COUNT = "SELECT count(*) FROM crm_lead"
ALL_PAGE = LEAD_ROW + "ORDER BY l.updated_at DESC, l.id DESC LIMIT %(limit)s"
FUNNEL_BY_STAGE = "SELECT stage, count(*) FROM crm_lead GROUP BY stage"
FUNNEL_REPORT = "SELECT stage, count(*), sum(expected_amount) FROM crm_lead GROUP BY stage"

# The weekly review's live figures for the reps in scope, in one statement: holdings per rep and stage with
# amounts and flags, median days in stage, the 13-week cohort's reach, the week's signings and abandons,
# the weighted forecast for this month and next, and the first 50 leads of each flagged list.
REVIEW = """
WITH scope_leads AS (
    SELECT l.* FROM crm_lead l JOIN accounts_user u ON u.id = l.owner_id
    WHERE u.is_active AND u.role IN ('rep', 'manager') {team}
),
open_leads AS (SELECT * FROM scope_leads WHERE stage IN %(open)s),
holdings AS (
    SELECT owner_id, stage, count(*) AS n, sum(expected_amount) AS amount,
           count(*) FILTER (WHERE is_followup_overdue) AS followup, count(*) FILTER (WHERE is_verdict_due) AS verdict
    FROM open_leads GROUP BY owner_id, stage
),
medians AS (
    SELECT stage, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM %(now)s - stage_entered_at)) AS s
    FROM open_leads GROUP BY stage
),
reach AS (
    SELECT sc.to_stage, count(DISTINCT sc.lead_id) AS n
    FROM scope_leads l JOIN crm_stagechange sc ON sc.lead_id = l.id
    WHERE l.created_at >= %(cohort)s GROUP BY sc.to_stage
),
week AS (
    SELECT sc.to_stage, l.owner_id, l.lost_reason, count(*) AS n, sum(l.signed_amount) AS amount,
           count(*) FILTER (WHERE sc.is_out_of_funnel) AS outside
    FROM crm_stagechange sc JOIN scope_leads l ON l.id = sc.lead_id
    WHERE sc.changed_at >= %(start)s AND sc.changed_at < %(end)s AND sc.to_stage IN ('signed', 'abandoned')
    GROUP BY sc.to_stage, l.owner_id, l.lost_reason
),
forecast AS (
    SELECT owner_id, expected_close_date < %(next_month)s AS this_month,
           sum(expected_amount * coalesce(win_probability, CASE stage WHEN 'signed' THEN 1.0
               WHEN 'intention' THEN %(p_intention)s ELSE %(p_lead)s END)) AS amount
    FROM open_leads
    WHERE stage IN ('lead', 'intention', 'signed') AND expected_amount IS NOT NULL
      AND expected_close_date >= %(this_month)s AND expected_close_date < %(after)s
    GROUP BY 1, 2
),
followup AS (
    SELECT l.id, c.name, l.owner_id, l.last_activity_at FROM open_leads l JOIN crm_customer c ON c.id = l.customer_id
    WHERE l.is_followup_overdue ORDER BY l.last_activity_at, l.id LIMIT 50
),
verdict AS (
    SELECT l.id, c.name, l.owner_id, l.last_progress_at FROM open_leads l JOIN crm_customer c ON c.id = l.customer_id
    WHERE l.is_verdict_due ORDER BY l.last_progress_at, l.id LIMIT 50
)
SELECT (SELECT json_agg(h) FROM holdings h), (SELECT json_agg(m) FROM medians m), (SELECT json_agg(r) FROM reach r),
       (SELECT count(*) FROM scope_leads WHERE created_at >= %(cohort)s), (SELECT json_agg(w) FROM week w),
       (SELECT json_agg(f) FROM forecast f), (SELECT json_agg(f) FROM followup f), (SELECT json_agg(v) FROM verdict v)
"""
REVIEW_TEAM = REVIEW.format(team="AND u.team_id = %(team)s")
REVIEW_ALL = REVIEW.format(team="")


def _cadence_update() -> str:
    """Return one UPDATE that sets all three cadence flags and writes only the rows where one changes."""
    owned_open = "owner_id IS NOT NULL AND stage IN %(open)s"
    slow_cases = " ".join(f"WHEN '{stage}' THEN stage_entered_at < %(slow_{stage})s" for stage in ideal("days_to_next"))
    followup = f"({owned_open} AND coalesce(last_activity_at, created_at) < %(followup)s)"
    verdict = f"({owned_open} AND last_progress_at < %(verdict)s)"
    slow = f"(owner_id IS NOT NULL AND CASE stage {slow_cases} ELSE false END)"
    # Built from constants only; every value is a parameter.
    return (
        f"UPDATE crm_lead SET is_followup_overdue = {followup}, is_verdict_due = {verdict}, is_slow = {slow} "  # noqa: S608
        f"WHERE (is_followup_overdue, is_verdict_due, is_slow) IS DISTINCT FROM ({followup}, {verdict}, {slow})"
    )


CADENCE = _cadence_update()

# No scoring logic at all: only the writes every full recompute must make (each lead's score and its detail
# row, which the task's warm-up run has created).
SCORE_WRITE_FLOOR = """
WITH leads AS (UPDATE crm_lead SET score = score, scored_at = now() RETURNING id)
UPDATE scoring_leadscore s SET points = s.points, scored_at = now() FROM leads WHERE s.lead_id = leads.id
"""

# New leads and signings per month over the last 12 months (the monthly conversion summary).
MONTHLY_CONVERSION = """
SELECT date_trunc('month', created_at AT TIME ZONE 'Asia/Shanghai') AS month, count(*)
FROM crm_lead WHERE created_at >= now() - interval '12 months' GROUP BY 1;
SELECT date_trunc('month', changed_at AT TIME ZONE 'Asia/Shanghai') AS month, count(*)
FROM crm_stagechange WHERE to_stage = 'signed' AND changed_at >= now() - interval '12 months' GROUP BY 1
"""
