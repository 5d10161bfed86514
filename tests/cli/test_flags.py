"""`journey funnel` names its flags in errors the funnel library raises about its parameters."""

import pytest
from typer.testing import CliRunner

from journeylib.cli import _name_flags, app
from journeylib.errors import ConfigError, DataError

runner = CliRunner()


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
def test_library_errors_name_the_flags(args, line):
    # The settings are checked before the client is loaded: no client is needed.
    result = runner.invoke(app, ["funnel", "no-such-client", *args])
    assert result.exit_code == 2
    assert line in " ".join(result.output.split())


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
