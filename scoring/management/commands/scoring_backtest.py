"""Backtest the production scoring on a CSV of past leads.

    python manage.py scoring_backtest --train TRAIN.csv --test TEST.csv --target Converted \\
        --id "Prospect ID" --drop "Lead Number" --drop-preset x-education

TRAIN's rows are closed history (target 1 = won, 0 = lost); every other column becomes an intake
attribute, exactly as a web form's `attributes` would. The model is fitted by the production code
(scoring.services.model.model_fit: the same feature builder and estimator the nightly training
uses) and the points come from the active score rules. For each TEST row it writes
`id,win_probability,points` as CSV on stdout; when TEST has the target column, ROC-AUC goes to stderr.

Which columns to leave out is the caller's choice (--drop, --drop-preset); the production path
simply uses whatever attributes leads have.
"""

import csv
import time

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from sklearn.metrics import roc_auc_score

from scoring.services import rules_active
from scoring.services.inputs import LeadFrame
from scoring.services.model import model_fit
from scoring.services.rules import points_compute

# Columns of the X Education leads (shared/data/x-education-leads/README.md) filled in by the sales
# team or a vendor after the lead was worked: a score made when the lead arrives cannot know them.
X_EDUCATION_LEAKY_COLUMNS = (
    "Tags",
    "Lead Quality",
    "Lead Profile",
    "Last Notable Activity",
    "Asymmetrique Activity Index",
    "Asymmetrique Profile Index",
    "Asymmetrique Activity Score",
    "Asymmetrique Profile Score",
)
DROP_PRESETS = {"x-education": X_EDUCATION_LEAKY_COLUMNS}
MISSING_LEVELS = ("Select",)  # an unanswered dropdown in the X Education forms; blank cells are always missing
WON, LOST = {"1", "true", "yes", "won"}, {"0", "false", "no", "lost"}


def outcome(value: str) -> int | None:
    """Return 1 for won, 0 for lost, None for a blank target; refuse anything else."""
    value = (value or "").strip().casefold()
    if not value:
        return None
    if value in WON:
        return 1
    if value in LOST:
        return 0
    raise CommandError(f"Target value {value!r} is neither won (1) nor lost (0).")


def read_leads(
    path: str, *, target: str, id_column: str | None, drop: set[str], missing: set[str]
) -> tuple[list[str], LeadFrame, list[int | None]]:
    """Read a CSV into ids, a LeadFrame of attribute-only leads, and outcomes (None where unknown)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        if id_column and id_column not in columns:
            raise CommandError(f"{path} has no id column {id_column!r}.")
        skip = {target, id_column, *drop}
        ids, records, outcomes = [], [], []
        for number, row in enumerate(reader, start=1):
            ids.append(row[id_column] if id_column else str(number))
            outcomes.append(outcome(row[target]) if target in row else None)
            attributes = {k: v for k, v in row.items() if k not in skip and k is not None and v.strip() not in missing}
            records.append({"attributes": attributes})
    return ids, LeadFrame.from_records(records), outcomes


class Command(BaseCommand):
    help = "Train the production win-probability model on TRAIN.csv and score TEST.csv (CSV on stdout)."

    def add_arguments(self, parser):
        parser.add_argument("--train", required=True, help="CSV of closed leads with the target column")
        parser.add_argument("--test", required=True, help="CSV of leads to score")
        parser.add_argument("--target", required=True, help="column: 1 = won, 0 = lost")
        parser.add_argument("--id", dest="id_column", help="column that identifies a lead (default: row number)")
        parser.add_argument("--drop", action="append", default=[], help="column to leave out (repeatable)")
        parser.add_argument(
            "--drop-preset", choices=sorted(DROP_PRESETS), help="leave out a known data set's leaky columns"
        )
        parser.add_argument(
            "--missing",
            action="append",
            help=f"a value that means unanswered (repeatable; default: {', '.join(MISSING_LEVELS)})",
        )

    def handle(self, *args, train, test, target, id_column, drop, drop_preset, missing, **options):
        dropped = {*drop, *DROP_PRESETS.get(drop_preset, ())}
        missing_levels = {"", *(missing if missing is not None else MISSING_LEVELS)}
        read = {"target": target, "id_column": id_column, "drop": dropped, "missing": missing_levels}
        _ids, train_frame, train_outcomes = read_leads(train, **read)
        known = [i for i, o in enumerate(train_outcomes) if o is not None]
        won = np.array([train_outcomes[i] for i in known], dtype=np.int64)
        if len(set(won.tolist())) < 2:
            raise CommandError("TRAIN needs both won (1) and lost (0) rows.")
        started = time.monotonic()
        model = model_fit(train_frame.take(known), won)
        self.stderr.write(
            f"Trained on {len(won)} leads ({int(won.sum())} won) in {time.monotonic() - started:.1f} s; "
            f"{len(model.builder.inputs)} inputs."
        )
        ids, test_frame, test_outcomes = read_leads(test, **read)
        probability = model.predict(test_frame)
        points, _breakdown = points_compute(test_frame, rules_active(), today=timezone.localdate())
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(["id", "win_probability", "points"])
        for lead_id, p, score in zip(ids, probability.tolist(), points.tolist(), strict=True):
            writer.writerow([lead_id, f"{p:.6f}", score])
        scored = [i for i, o in enumerate(test_outcomes) if o is not None]
        if scored:
            truth = [test_outcomes[i] for i in scored]
            if len(set(truth)) < 2:
                self.stderr.write("ROC-AUC: undefined (TEST has only one outcome)")
            else:
                auc = roc_auc_score(truth, probability[scored])
                self.stderr.write(f"ROC-AUC: {auc:.4f} (n={len(scored)})")
