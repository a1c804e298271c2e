"""The simulate management command: tables, files, progress and bad options."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

import agents


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("simulate", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_prints_a_table_row_per_policy_and_writes_json_and_html(tmp_path):
    out, err = run("--all-policies", "--games", "3", "--out", str(tmp_path))

    for policy in ("random", "greedy", "cautious", "scripted"):
        assert f"lornhaven    {policy}" in out
    assert "12 games in" in err

    document = json.loads((tmp_path / "lornhaven-all-3g-s1.json").read_text())
    assert [r["policy"] for r in document["reports"]] == [
        "random",
        "greedy",
        "cautious",
        "scripted",
    ]
    assert all(r["games"] == 3 for r in document["reports"])
    assert document["command"].startswith("manage.py simulate --theme lornhaven")
    assert document["balance"]["lornhaven"]

    page = (tmp_path / "lornhaven-all-3g-s1.html").read_text()
    assert page.count("<svg") >= 2
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "<script" not in page


def test_same_seed_writes_the_same_report(tmp_path):
    run("--games", "4", "--seed", "7", "--out", str(tmp_path / "a"))
    run("--games", "4", "--seed", "7", "--out", str(tmp_path / "b"))
    first = (tmp_path / "a" / "lornhaven-random-4g-s7.json").read_text()
    assert first == (tmp_path / "b" / "lornhaven-random-4g-s7.json").read_text()


def test_markdown_output_is_a_table_per_theme():
    out, _ = run("--policy", "greedy", "--games", "2", "--out", "", "--markdown")
    assert "| Ending | Kind | greedy |" in out
    assert "| **Victory** |" in out


def test_progress_lines_reach_the_total_when_not_a_terminal():
    _, err = run("--games", "5", "--out", "")
    assert "lornhaven random: 5/5 games" in err


def test_every_builtin_theme_is_simulated_with_all_themes():
    out, _ = run("--all-themes", "--games", "1", "--out", "")
    for slug in agents.builtin_theme_data():
        assert f"{slug:<12} random" in out


def test_unknown_theme_names_the_known_ones():
    with pytest.raises(CommandError, match='No built-in theme "atlantis".*lornhaven'):
        run("--theme", "atlantis", "--out", "")


@pytest.mark.parametrize(
    "args, message",
    [
        (("--games", "0"), "--games must be at least 1"),
        (("--jobs", "0"), "--jobs must be at least 1"),
        (("--theme", "lornhaven", "--all-themes"), "not both"),
    ],
)
def test_bad_options_are_clear_errors(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args, "--out", "")


@pytest.mark.django_db
def test_stored_themes_can_be_simulated(theme):
    out, _ = run("--source", "db", "--theme", theme.slug, "--games", "2", "--out", "")
    assert f"{theme.slug:<12} random" in out


@pytest.mark.django_db
def test_a_theme_missing_from_the_database_is_a_clear_error():
    with pytest.raises(CommandError, match="No enabled theme"):
        run("--source", "db", "--theme", "lornhaven", "--out", "")


def test_a_broken_builtin_pack_is_named_not_a_traceback(monkeypatch):
    pack = agents.builtin_theme_data()["lornhaven"]
    broken = {**pack, "turn_limit": 2}
    monkeypatch.setattr(agents, "builtin_theme_data", lambda: {"lornhaven": broken})
    with pytest.raises(
        CommandError, match='Theme "lornhaven" does not load: turn_limit'
    ):
        run("--out", "")


def test_update_doc_replaces_only_the_marked_section(tmp_path):
    doc = tmp_path / "balance.md"
    doc.write_text(
        "# Balance\n\nBefore.\n<!-- simulate:begin -->\nold table\n"
        "<!-- simulate:end -->\nAfter.\n"
    )
    run("--games", "2", "--out", "", "--update-doc", str(doc))

    text = doc.read_text()
    assert "old table" not in text
    assert text.startswith("# Balance\n\nBefore.\n<!-- simulate:begin -->")
    assert text.endswith("<!-- simulate:end -->\nAfter.\n")
    assert "manage.py simulate --theme lornhaven --policy random --games 2" in text
    assert "| Ending | Kind | random |" in text


def test_update_doc_without_markers_is_refused_before_playing(tmp_path):
    doc = tmp_path / "notes.md"
    doc.write_text("no markers here\n")
    with pytest.raises(CommandError, match="no <!-- simulate:begin -->"):
        run("--games", "2", "--out", "", "--update-doc", str(doc))
    assert doc.read_text() == "no markers here\n"


def test_policy_games_overrides_the_count_for_one_policy(tmp_path):
    out, err = run(
        "--all-policies", "--games", "3", "--policy-games", "greedy=1", "--out", ""
    )
    assert "lornhaven    greedy         1" in out
    assert "lornhaven    random         3" in out
    assert "10 games in" in err


@pytest.mark.parametrize("value", ["greedy", "lucky=4", "greedy=0", "greedy=x"])
def test_bad_policy_games_is_a_clear_error(value):
    with pytest.raises(CommandError, match="POLICY=N"):
        run("--policy-games", value, "--out", "")
