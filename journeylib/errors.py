"""The user-facing exception types.

Every problem a user can meet is raised as a :class:`JourneyError` subclass
whose message says what is wrong, where (file, column or key), what was
expected, what was found and how to fix it. The CLI turns them into one line
and exit status 2; nothing below the CLI prints or exits.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "ClientNameError",
    "ConfigError",
    "DataError",
    "JourneyError",
    "TemplateError",
    "check_choice",
    "first_line",
]


class JourneyError(Exception):
    """Base class of every error meant for the user (exit status 2).

    Args:
        what: what is wrong, in a few words.
        where: the file, and the column or key, it concerns.
        expected: what was expected there.
        found: what was found instead.
        fix: how the user can fix it.

    Examples:
        >>> str(JourneyError("missing column", where="accounts.csv: account_id",
        ...     expected="a column named account_id", found="columns id, name",
        ...     fix="rename the id column to account_id"))
        'accounts.csv: account_id: missing column (expected a column named account_id, found columns id, name). Fix: rename the id column to account_id.'
    """

    exit_code = 2

    def __init__(
        self,
        what: str,
        *,
        where: str | Path | None = None,
        expected: str | None = None,
        found: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.what = what
        self.where = str(where) if where is not None else None
        self.expected = expected
        self.found = found
        self.fix = fix
        super().__init__(self._message())

    def _message(self) -> str:
        msg = f"{self.where}: {self.what}" if self.where else self.what
        detail = []
        if self.expected is not None:
            detail.append(f"expected {self.expected}")
        if self.found is not None:
            detail.append(f"found {self.found}")
        if detail:
            msg += f" ({', '.join(detail)})"
        if self.fix:
            msg += f". Fix: {self.fix.rstrip('.')}."
        return " ".join(msg.split())  # always one line


class ConfigError(JourneyError):
    """A bad ``client.yaml``: unreadable, unknown key, wrong type, missing key."""


class TemplateError(JourneyError):
    """An unknown or invalid journey template."""


class DataError(JourneyError):
    """A table that cannot be read as meant (a fatal data problem)."""


class ClientNameError(JourneyError):
    """A client name that is not a plain folder name, or a client that does not exist."""


def check_choice(
    kind: str,
    value: str,
    choices: Sequence[str],
    *,
    fix: str,
    where: str | None = None,
    error: type[JourneyError] = JourneyError,
    given: str | None = None,
) -> None:
    """Raise ``unknown <kind>`` (an ``error``) unless ``value`` is one of ``choices``.

    The message expects the choices, written ``a, b or c``, and quotes the value
    found: ``given`` when the caller cleaned the value before the check (the raw
    text it was given), else ``value``.

    Examples:
        >>> check_choice("format", "csv", ("csv", "parquet"), fix="pass fmt='csv'")
        >>> check_choice("format", "xml", ("csv", "parquet"), where="fmt", fix="pass fmt='csv'")
        Traceback (most recent call last):
        ...
        journeylib.errors.JourneyError: fmt: unknown format (expected csv or parquet, found 'xml'). Fix: pass fmt='csv'.
        >>> check_choice("format", "xml", ("csv",), fix="pass fmt='csv'", given=" XML ")
        Traceback (most recent call last):
        ...
        journeylib.errors.JourneyError: unknown format (expected csv, found ' XML '). Fix: pass fmt='csv'.
    """
    if value not in choices:
        *others, last = choices
        expected = f"{', '.join(others)} or {last}" if others else last
        found = repr(value if given is None else given)
        raise error(f"unknown {kind}", where=where, expected=expected, found=found, fix=fix)


def first_line(exc: BaseException, *, limit: int = 200) -> str:
    r"""The first line of an exception's message (at most ``limit`` characters), for a ``found``.

    Library errors (polars, Arrow, the OS) can run over many lines; a
    :class:`JourneyError` quotes only their first.

    Examples:
        >>> first_line(ValueError("bad value\nat row 3")), first_line(KeyError())
        ('bad value', 'KeyError')
    """
    text = str(exc).strip().splitlines()
    return text[0][:limit] if text else type(exc).__name__
