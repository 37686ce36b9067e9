"""The backtest command and the model's quality on real leads, both through the production code."""

import csv
import io
import time
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from scoring.management.commands.scoring_backtest import X_EDUCATION_LEAKY_COLUMNS, read_leads
from scoring.services.model import model_cross_validate

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "x-education-leads" / "train.csv"
IDS = ("Prospect ID", "Lead Number")


@pytest.fixture(scope="module")
def x_education() -> list[dict]:
    assert DATA.exists(), f"the X Education leads are expected at {DATA}"
    with open(DATA, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_five_fold_cross_validated_auc_reaches_0_90_on_real_leads(x_education):
    _ids, frame, outcomes = read_leads(
        str(DATA),
        target="Converted",
        id_column="Prospect ID",
        drop={*X_EDUCATION_LEAKY_COLUMNS, "Lead Number"},
        missing={"", "Select"},
    )
    assert len(frame) == len(x_education) == 6498
    started = time.monotonic()
    auc = model_cross_validate(frame, np.array(outcomes), folds=5)
    assert auc >= 0.90, auc
    assert time.monotonic() - started < 60


def _write(path: Path, rows: list[dict], columns: list[str]) -> str:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows({c: row[c] for c in columns} for row in rows)
    return str(path)


def _run(*args) -> tuple[list[list[str]], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("scoring_backtest", *args, stdout=out, stderr=err)
    return list(csv.reader(io.StringIO(out.getvalue()))), err.getvalue()


def test_the_command_writes_one_scored_row_per_test_lead_and_the_auc(x_education, tmp_path, add_rule):
    add_rule("attribute", 10, operator="eq", value="Lead Add Form", key="Lead Origin")
    columns = list(x_education[0])
    train = _write(tmp_path / "train.csv", x_education[:1500], columns)
    test_rows = x_education[1500:1800]
    test = _write(tmp_path / "test.csv", test_rows, columns)
    rows, err = _run(
        "--train",
        train,
        "--test",
        test,
        "--target",
        "Converted",
        "--id",
        "Prospect ID",
        "--drop",
        "Lead Number",
        "--drop-preset",
        "x-education",
    )
    assert rows[0] == ["id", "win_probability", "points"]
    assert [r[0] for r in rows[1:]] == [r["Prospect ID"] for r in test_rows]
    assert all(0 <= float(p) <= 1 for _id, p, _points in rows[1:])
    points = {r["Prospect ID"]: (10 if r["Lead Origin"] == "Lead Add Form" else 0) for r in test_rows}
    assert all(int(score) == points[lead_id] for lead_id, _p, score in rows[1:])
    auc_line = next(line for line in err.splitlines() if line.startswith("ROC-AUC: "))
    assert float(auc_line.split()[1]) > 0.8 and "(n=300)" in auc_line


def test_without_the_target_in_test_there_is_no_auc(x_education, tmp_path):
    columns = list(x_education[0])
    train = _write(tmp_path / "train.csv", x_education[:400], columns)
    test = _write(tmp_path / "test.csv", x_education[400:420], [c for c in columns if c != "Converted"])
    rows, err = _run("--train", train, "--test", test, "--target", "Converted")
    assert len(rows) == 21 and rows[1][0] == "1"  # ids default to row numbers
    assert "ROC-AUC" not in err
