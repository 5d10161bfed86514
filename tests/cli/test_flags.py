"""The commands name their flags in errors the library raises about its parameters.

The library's errors name its parameters (``window``, ``engine``, ``date``);
each command's error handler writes them as its flags and arguments
(``--window``, ``--engine``, ``--date``, ``SOURCE``). Client text is printed as
given: no emoji codes, no markup.
"""

import pytest
from typer.testing import CliRunner

from journeylib.cli import _FUNNEL_FLAGS, _IMPORT_FLAGS, _flag_text, _name_flags, app
from journeylib.errors import ConfigError, DataError, JourneyError

runner = CliRunner()


def one_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


@pytest.mark.parametrize(
    "args,line",
    [
        (
            ["--steps", "a,b", "--mode", "sideways"],
            "--mode: unknown funnel mode (expected ordered, strict or unordered, "
            "found 'sideways'). Fix: use --mode 'ordered'.",
        ),
        (
            ["--steps", "a,b", "--mode", "unordered", "--exclude", "x:0:1"],
            "--exclude: exclusions are not supported in unordered mode "
            "(expected --mode 'ordered' or 'strict', found --mode 'unordered').",
        ),
        (["--steps", "a,b", "--window", "0s"], "--window: bad conversion window"),
        (["--steps", "a,b", "--exclude", "x:²:1"], "--exclude: bad exclusion"),
    ],
)
def test_funnel_errors_name_the_flags(args, line):
    # The settings are checked before the client is loaded: no client is needed.
    result = runner.invoke(app, ["funnel", "no-such-client", *args])
    assert line in one_line(result)


def test_metrics_errors_name_the_engine_flag():
    # The engine is checked before the client is loaded: no client is needed.
    result = runner.invoke(app, ["metrics", "no-such-client", "--engine", "SQL "])
    assert one_line(result) == (
        "error: --engine: unknown engine (expected polars, duckdb or spark, found 'SQL '). "
        "Fix: pass --engine polars, --engine duckdb or --engine spark."
    )


def test_import_errors_name_the_argument_and_flags(tmp_path):
    export = tmp_path / "Queries.csv"
    export.write_text("Top queries,Clicks,Impressions\nacme,1,10\n")
    client = str(tmp_path / "c")
    result = runner.invoke(app, ["import", "Salesforce", str(export), "--client", client])
    assert one_line(result).startswith(
        "error: SOURCE: unknown import source (expected segment, stripe, hubspot, zendesk, "
        "search_console or nps, found 'Salesforce')."
    )
    args = ["import", "gsc", str(export), "--client", client]
    result = runner.invoke(app, [*args, "--date", "31/03/2024"])
    assert one_line(result).startswith("error: --date: bad date (expected a date YYYY-MM-DD")
    result = runner.invoke(app, args)
    line = one_line(result)
    assert "(expected --date YYYY-MM-DD (the last day of the exported range)" in line
    assert line.endswith("Fix: import the file again with --date YYYY-MM-DD.")
    assert not (tmp_path / "c").exists()


def test_client_text_is_printed_as_given():
    # ":a:" is rich's emoji code for 🅰: the error quotes the user's text as written.
    result = runner.invoke(
        app, ["funnel", "no-such-client", "--steps", "a,b", "--exclude", "x:a:b"]
    )
    line = one_line(result)
    assert "found 'x:a:b'" in line and "🅰" not in line


def test_funnel_table_prints_event_names_as_given(small_client):
    # Neither emoji codes (":a:") nor markup ("[beta]") in event names are rendered.
    result = runner.invoke(
        app, ["funnel", str(small_client), "--steps", "[beta] :a:,signed_up"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    assert "funnel [beta] :a: → signed_up" in result.output
    assert "│ [beta] :a: " in result.output


def test_flag_text_keyword_and_quoted_forms():
    flags = {"date": "--date", "engine": "--engine", "mode": "--mode", "source": "SOURCE"}
    text = "pass date=YYYY-MM-DD or engine='duckdb', use mode 'strict'; the date, --mode 'x'"
    assert _flag_text(text, flags) == (
        "pass --date YYYY-MM-DD or --engine duckdb, use --mode 'strict'; the date, --mode 'x'"
    )
    # A value with blanks keeps its quotes; a longer word is not a parameter.
    assert _flag_text("engine='duck db' update=1", flags) == "--engine 'duck db' update=1"


def test_parameters_become_flags_prose_keeps_its_words():
    flags = {"steps": "--steps", "mode": "--mode"}
    exc = ConfigError("bad", where="steps", found="steps 'a' and mode 'x'", fix="the steps")
    named = _name_flags(exc, flags)
    assert type(named) is ConfigError
    assert (named.what, named.where, named.expected, named.found, named.fix) == (
        "bad",
        "--steps",
        None,
        "--steps 'a' and --mode 'x'",
        "the steps",
    )
    other = _name_flags(DataError("bad", where="events", found="n 'x'"), flags)
    assert (type(other), other.where, other.found) == (DataError, "events", "n 'x'")


def test_every_table_maps_parameters_to_flags_or_arguments():
    for flags in (_FUNNEL_FLAGS, _IMPORT_FLAGS):
        for param, flag in flags.items():
            assert param.isidentifier() and (flag.startswith("--") or flag.isupper())
    named = _name_flags(JourneyError("x", where="files"), _IMPORT_FLAGS)
    assert named.where == "FILE"
