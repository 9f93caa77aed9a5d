"""Consensus of two codings: the CONFLICT marker, merge, resolve, and what validate says about them."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from whatworks.cli import main
from whatworks.data import validate
from whatworks.data.codings import CodingError
from whatworks.data.conflicts import conflict_marker, conflict_message, parse_conflict
from whatworks.data.merge import merge, resolve

FIXTURE = Path(__file__).parent / "fixtures" / "double_coding"
A, B = FIXTURE / "coder_a" / "demo2027", FIXTURE / "coder_b" / "demo2027"


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write(path: Path, records: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(records[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(records)


@given(hs.text(), hs.text())
def test_marker_round_trips_any_two_values(a, b):
    assert parse_conflict(conflict_marker(a, b)) == (a, b)


def test_marker_messages():
    assert conflict_message("rct") is None and conflict_message(3) is None
    assert "coder A wrote 'x|y', coder B wrote ''" in str(conflict_message(conflict_marker("x|y", "")))
    assert "damaged disagreement marker" in str(conflict_message("CONFLICT{a=1"))


def test_merge_takes_agreed_cells_and_marks_the_others(tmp_path):
    res = merge(A, B, tmp_path / "demo2027")
    assert res.n_conflicts == 26 and sorted(p.name for p in res.folder.iterdir()) == [
        "effects.csv", "resolutions.csv", "review.toml", "risk_of_bias.csv"]
    eff = {r["effect_id"]: r for r in rows(res.folder / "effects.csv")}
    assert eff["dogwood2021_wl"]["m_t"] == "12.50"  # agreed ("12.50" = "12.5"): coder A's spelling
    assert eff["dogwood2021_wl"]["sd_t"] == "CONFLICT{a=3.1|b=3.7}"
    assert eff["juniper2024_uc"]["notes"] == "SYNTHETIC test fixture, not data; primary outcome"
    assert "CONFLICT{a=kauri2024_wl|b=}" in eff and "CONFLICT{a=|b=larch2025_wl}" in eff
    assert list(eff)[-1] == "CONFLICT{a=|b=larch2025_wl}"  # rows of B only come last
    res_rows = rows(res.folder / "resolutions.csv")
    assert all(r["resolved_value"] == r["resolved_by"] == "" for r in res_rows)
    assert {"file": "effects.csv", "key": "dogwood2021_wl", "column": "sd_t", "value_a": "3.1",
            "value_b": "3.7"}.items() <= res_rows[[r["column"] for r in res_rows].index("sd_t")].items()


def test_validate_refuses_every_marked_cell(tmp_path):
    res = merge(A, B, tmp_path / "demo2027")
    errors = [p for p in validate(res.folder) if p.is_error]
    conflicts = [p for p in errors if "unresolved disagreement" in p.message]
    assert len(conflicts) == 26
    assert str(next(p for p in conflicts if p.column == "sd_t")).startswith(
        "demo2027/effects.csv:4:sd_t: unresolved disagreement between the two coders: coder A wrote '3.1', "
        "coder B wrote '3.7'")
    assert not [p for p in errors if p.file.endswith("resolutions.csv")]  # reported once, at the cell


def test_merge_refuses_wrong_name_and_existing_folder(tmp_path, capsys):
    with pytest.raises(CodingError, match="named after the review"):
        merge(A, B, tmp_path / "consensus")
    (tmp_path / "demo2027").mkdir()
    (tmp_path / "demo2027" / "x").write_text("", "utf-8")
    with pytest.raises(FileExistsError):
        merge(A, B, tmp_path / "demo2027")
    assert main(["merge", str(A), str(B), "--out", str(tmp_path / "demo2027")]) == 1
    assert main(["merge", str(A), str(B), "--out", str(tmp_path / "consensus")]) == 2
    assert main(["merge", str(A), str(tmp_path / "nope"), "--out", str(tmp_path / "demo2027")]) == 2


def test_identical_codings_merge_clean(tmp_path, capsys):
    assert main(["merge", str(A), str(A), "--out", str(tmp_path / "demo2027")]) == 0
    assert not (tmp_path / "demo2027" / "resolutions.csv").exists()
    assert [p for p in validate(tmp_path / "demo2027") if p.is_error] == []


def decide(folder: Path, choose: dict[tuple[str, str], str], by: str = "C. Onsensus", on: str = "2027-02-10") -> None:
    records = rows(folder / "resolutions.csv")
    for r in records:
        if (r["key"], r["column"]) in choose:
            r.update(resolved_value=choose[(r["key"], r["column"])], resolved_by=by, resolved_on=on,
                     reason="Table 2")
    write(folder / "resolutions.csv", records)


def test_resolve_writes_decisions_and_drops_rows(tmp_path):
    folder = merge(A, B, tmp_path / "demo2027").folder
    decide(folder, {("dogwood2021_wl", "sd_t"): "3.1", ("larch2025_wl", "effect_id"): "",
                    ("kauri2024_wl", "effect_id"): "kauri2024_wl", ("", "prisma.reports_not_retrieved"): "2"})
    res = resolve(folder)
    assert (res.applied, res.still_open, res.problems) == (4, 22, ())
    eff = {r["effect_id"]: r for r in rows(folder / "effects.csv")}
    assert eff["dogwood2021_wl"]["sd_t"] == "3.1" and "kauri2024_wl" in eff
    assert not any("larch2025" in k for k in eff)
    assert "reports_not_retrieved = 2\n" in (folder / "review.toml").read_text("utf-8")
    again = resolve(folder)  # applying twice changes nothing
    assert (again.applied, again.problems) == (0, ())
    remaining = {p.column for p in validate(folder) if p.is_error}
    assert "sd_t" not in remaining and "strategy" in remaining


def test_resolutions_are_checked(tmp_path):
    folder = merge(A, B, tmp_path / "demo2027").folder
    decide(folder, {("dogwood2021_wl", "sd_t"): "3.1"}, on="10/02/2027")
    resolve(folder)
    msgs = [str(p) for p in validate(folder) if p.file.endswith("resolutions.csv")]
    assert any(m.endswith("resolved_on: must be an ISO date YYYY-MM-DD, got '10/02/2027'") for m in msgs)
    # a marker replaced by hand without recording the decision
    path = folder / "effects.csv"
    path.write_text(path.read_text("utf-8").replace("CONFLICT{a=40|b=44}", "40"), "utf-8")
    msgs = [str(p) for p in validate(folder) if p.file.endswith("resolutions.csv")]
    assert any("effects.csv gum2022_wl n_treatment no longer holds the disagreement" in m for m in msgs)


def test_resolve_usage(tmp_path, capsys):
    assert main(["resolve", str(A)]) == 2  # a coder's folder, not a merged one
    folder = merge(A, B, tmp_path / "demo2027").folder
    assert main(["resolve", str(folder)]) == 1
    assert "0 decision(s) written into the data; 26 disagreement(s) still open" in capsys.readouterr().out


def test_a_cell_changed_after_merge_is_left_alone(tmp_path):
    folder = merge(A, B, tmp_path / "demo2027").folder
    path = folder / "effects.csv"
    path.write_text(path.read_text("utf-8").replace("CONFLICT{a=3.1|b=3.7}", "3.3"), "utf-8")
    decide(folder, {("dogwood2021_wl", "sd_t"): "3.1"})
    res = resolve(folder)
    assert res.applied == 0 and "holds '3.3', not the marker of this row" in str(res.problems[0])


def test_coder_b_only_file_is_taken_whole(tmp_path):
    b = shutil.copytree(B, tmp_path / "b" / "demo2027")
    a = shutil.copytree(A, tmp_path / "a" / "demo2027")
    (a / "risk_of_bias.csv").unlink()
    folder = merge(a, b, tmp_path / "out" / "demo2027").folder
    rob = rows(folder / "risk_of_bias.csv")
    assert all(r["study_id"].startswith("CONFLICT{a=|b=") for r in rob)
