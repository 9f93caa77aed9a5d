"""The double-coding workflow of docs/adding-a-review.md, step by step through the command line.

new-review -> coder A codes the CSV files, coder B the Excel workbook -> import -> agree -> merge ->
resolve -> validate -> load -> report, on the synthetic worked example tests/fixtures/double_coding.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from whatworks.cli import main
from whatworks.data import load_reviews
from whatworks.data import schema as S

FIXTURE = Path(__file__).parent / "fixtures" / "double_coding"
REFERENCE = json.loads((Path(__file__).parent / "reference" / "agreement.json").read_text("utf-8"))["columns"]


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def fill_workbook(path: Path, folder: Path) -> None:
    """What coder B does in Excel: type the coded rows (numbers as numbers) and the review keys."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheets = {"effects": (S.EFFECTS_FILE, S.EFFECT_COLUMNS), "risk_of_bias": (S.RISK_OF_BIAS_FILE,
                                                                             S.RISK_OF_BIAS_COLUMNS)}
    for sheet, (file, columns) in sheets.items():
        ws = book[sheet]
        header = [c.value for c in ws[1]]
        types = {c.name: c.type for c in columns}
        for i, row in enumerate(read_rows(folder / file), start=2):
            for name, text in row.items():
                if text == "":
                    continue
                value: object = {"int": int, "float": float}.get(types[name], str)(text)
                ws.cell(row=i, column=header.index(name) + 1, value=value)
    meta = tomllib.loads((folder / S.REVIEW_FILE).read_text("utf-8"))
    ws = book["review"]
    keys = {ws.cell(row=i, column=1).value: i for i in range(2, ws.max_row + 1)}
    flat = {k: v for k, v in meta.items() if k != "prisma"}
    for k, v in meta["prisma"].items():
        if isinstance(v, dict):
            flat.update({f"prisma.{k}.{part}": n for part, n in v.items()})
        else:
            flat[f"prisma.{k}"] = v
    for key, value in flat.items():
        if key not in keys:
            ws.append([key])
            keys[key] = ws.max_row
        ws.cell(row=keys[key], column=2, value=value)
    book.save(path)


def test_the_worked_example_end_to_end(tmp_path, capsys):
    alice, bob, collection = tmp_path / "alice", tmp_path / "bob", tmp_path / "reviews"
    for d in (alice, bob, collection):
        d.mkdir()

    # 1. coder A scaffolds the folder and codes the CSV files; coder B takes the Excel workbook
    assert main(["new-review", "demo2027", "--root", str(alice)]) == 0
    for name in (S.REVIEW_FILE, S.EFFECTS_FILE, S.RISK_OF_BIAS_FILE):
        shutil.copyfile(FIXTURE / "coder_a" / "demo2027" / name, alice / "demo2027" / name)
    (alice / "demo2027" / S.POOLED_FILE).unlink()  # this review printed no pooled result
    assert main(["validate", str(alice / "demo2027")]) == 0
    workbook = tmp_path / "demo2027_bob.xlsx"
    assert main(["new-review", "demo2027", "--xlsx", "--out", str(workbook)]) == 0
    fill_workbook(workbook, FIXTURE / "coder_b" / "demo2027")
    assert main(["import", str(workbook), "--review", "demo2027", "--root", str(bob)]) == 0
    assert main(["validate", str(bob / "demo2027")]) == 0
    assert read_rows(bob / "demo2027" / S.EFFECTS_FILE)[3]["m_t"] == "12.5"  # a number cell, read as its value
    capsys.readouterr()

    # 2. agreement: the Excel coding gives the same figures as the CSV coding of the fixture (R-checked)
    assert main(["agree", str(alice / "demo2027"), str(bob / "demo2027"), "--out", str(tmp_path / "agreement")]) == 1
    agreement = pd.read_csv(tmp_path / "agreement" / "agreement.csv").set_index(["file", "column"])
    for ref in (r for r in REFERENCE if r.get("kappa") is not None):
        assert agreement.loc[(ref["file"], ref["column"]), "kappa"] == pytest.approx(ref["kappa"], abs=1e-6)
    assert len(pd.read_csv(tmp_path / "agreement" / "disagreements.csv")) == 26

    # 3. merge: agreed cells taken, each disagreement marked; validate refuses the folder, naming both values
    merged = collection / "demo2027"
    assert main(["merge", str(alice / "demo2027"), str(bob / "demo2027"), "--out", str(merged)]) == 1
    capsys.readouterr()
    assert main(["validate", str(collection)]) == 1
    out = capsys.readouterr().out
    assert ("demo2027/effects.csv:2:strategy: unresolved disagreement between the two coders: coder A wrote "
            "'social_support', coder B wrote 'social_access'") in out
    assert "demo2027/review.toml:prisma.reports_not_retrieved: unresolved disagreement" in out

    # 4. resolve: the decisions are recorded in resolutions.csv (here: half of them first, then the rest)
    decisions = {(d["file"], d["key"], d["column"]): d for d in read_rows(FIXTURE / "decisions.csv")}
    rows = read_rows(merged / "resolutions.csv")
    assert {(r["file"], r["key"], r["column"]) for r in rows} == set(decisions)

    def record(n: int) -> None:
        for r in rows[:n]:
            r.update({k: v for k, v in decisions[(r["file"], r["key"], r["column"])].items()
                      if k.startswith("resolved") or k == "reason"})
        with open(merged / "resolutions.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
            w.writeheader()
            w.writerows(rows)

    record(10)
    assert main(["resolve", str(merged)]) == 1
    assert "10 decision(s) written into the data; 16 disagreement(s) still open" in capsys.readouterr().out
    assert main(["validate", str(collection)]) == 1
    record(len(rows))
    assert main(["resolve", str(merged)]) == 0
    assert "16 decision(s) written into the data; 0 disagreement(s) still open" in capsys.readouterr().out
    assert main(["validate", str(collection)]) == 0
    capsys.readouterr()

    # 5. the consensus loads: the decided values, the kept and the dropped rows
    effects = load_reviews(collection).set_index("effect_id")
    assert "kauri2024_wl" in effects.index and "larch2025_wl" not in effects.index and len(effects) == 12
    assert effects.loc["gum2022_wl", "n_treatment"] == 40 and effects.loc["dogwood2021_wl", "sd_t"] == 3.1
    assert effects.loc["elm2021_uc", "pool"]  # favours resolved to treatment: the F gives an effect
    meta = tomllib.loads((merged / S.REVIEW_FILE).read_text("utf-8"))
    assert meta["prisma"]["reports_not_retrieved"] == 2 and meta["coded_on"] == "2027-02-03"
    rob = read_rows(merged / S.RISK_OF_BIAS_FILE)
    assert [r["overall"] for r in rob if r["study_id"] in ("birch2020", "hazel2023")] == ["high", "low"]
    assert rob[0]["assessed_by"] == "coder A; coder B (independent double coding)"

    # 6. the report includes the review and its PRISMA flow
    assert main(["report", "--data", str(collection), "--out", str(tmp_path / "report"), "--format", "svg",
                 "--quiet"]) == 0
    page = (tmp_path / "report" / "report.html").read_text("utf-8")
    assert "Study selection (PRISMA 2020 flow)" in page and "PRISMA 2020 flow diagram of demo2027" in page
    assert (tmp_path / "report" / "figures" / "prisma_demo2027.svg").is_file()


def test_a_decision_changed_by_hand_afterwards_is_caught(tmp_path, capsys):
    merged = tmp_path / "reviews" / "demo2027"
    assert main(["merge", str(FIXTURE / "coder_a" / "demo2027"), str(FIXTURE / "coder_b" / "demo2027"),
                 "--out", str(merged)]) == 1
    decisions = {(d["file"], d["key"], d["column"]): d for d in read_rows(FIXTURE / "decisions.csv")}
    rows = read_rows(merged / "resolutions.csv")
    for r in rows:
        r.update({k: v for k, v in decisions[(r["file"], r["key"], r["column"])].items() if k in r})
    with open(merged / "resolutions.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    assert main(["resolve", str(merged)]) == 0
    path = merged / S.EFFECTS_FILE
    path.write_text(path.read_text("utf-8").replace(",40,41,", ",44,41,", 1), "utf-8")
    capsys.readouterr()
    assert main(["validate", str(merged)]) == 1
    out = capsys.readouterr().out
    assert "demo2027/resolutions.csv:" in out and "says '40' but effects.csv gum2022_wl n_treatment holds '44'" in out
    assert dt.date.fromisoformat(decisions[(S.EFFECTS_FILE, "gum2022_wl", "n_treatment")]["resolved_on"])
