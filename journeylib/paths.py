"""Every path of the workbench hangs off one project root.

``JOURNEY_ROOT`` overrides the root (data/, reports/ and templates/ below it);
``JOURNEY_DATA_DIR`` and ``JOURNEY_REPORTS_DIR`` override those two alone.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from journeylib.errors import ClientNameError

__all__ = [
    "PROJ_ROOT",
    "data_dir",
    "reports_dir",
    "templates_dir",
    "check_name",
    "resolve_client_dir",
    "client_dir_for_new",
]

PROJ_ROOT = Path(os.environ.get("JOURNEY_ROOT", Path(__file__).resolve().parents[1]))

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def data_dir() -> Path:
    """The folder that holds one sub-folder per client."""
    return Path(os.environ.get("JOURNEY_DATA_DIR", PROJ_ROOT / "data"))


def reports_dir() -> Path:
    """The git-ignored folder runs write into."""
    return Path(os.environ.get("JOURNEY_REPORTS_DIR", PROJ_ROOT / "reports"))


def templates_dir() -> Path:
    """The folder of the shipped templates (journeys, client.yaml, notebook, report)."""
    return PROJ_ROOT / "templates"


def check_name(name: str, *, kind: str = "client") -> str:
    """Return ``name`` when it is a plain folder name (letters, digits, ``-``, ``_``).

    Examples:
        >>> check_name("acme-2024")
        'acme-2024'
        >>> check_name("../etc")
        Traceback (most recent call last):
        ...
        journeylib.errors.ClientNameError: ../etc: not a valid client name (expected letters, digits, '-' and '_' only, found '../etc'). Fix: use a plain folder name under data/, or give the path of an existing client folder.
    """
    if not _NAME.fullmatch(name or ""):
        raise ClientNameError(
            f"not a valid {kind} name",
            where=name,
            expected="letters, digits, '-' and '_' only",
            found=repr(name),
            fix=f"use a plain folder name under {'data/' if kind == 'client' else 'templates/'}, "
            f"or give the path of an existing {kind} folder",
        )
    return name


def _is_pathlike(arg: str) -> bool:
    return "/" in arg or os.sep in arg or arg in (".", "..") or arg.startswith("~")


def resolve_client_dir(arg: str | Path) -> Path:
    """Resolve a CLIENT argument: a name under ``data/`` or a path to a client folder.

    A plain name must be a folder under ``data/``. Anything with a slash is a
    path; it must be an existing folder and may not contain ``..`` parts.

    Examples:
        >>> resolve_client_dir("no-such-client")
        Traceback (most recent call last):
        ...
        journeylib.errors.ClientNameError: data/no-such-client: no such client (expected a folder data/no-such-client with a client.yaml, found nothing). Fix: run `journey init no-such-client`, or give the path of an existing client folder.
    """
    text = str(arg)
    if isinstance(arg, Path) or _is_pathlike(text):
        path = Path(text).expanduser()
        if ".." in path.parts:
            raise ClientNameError(
                "a client path may not contain '..'",
                where=text,
                expected="a name under data/ or a path without '..'",
                found=repr(text),
                fix="give the client folder's full path, or its name under data/",
            )
        if not path.is_dir():
            raise ClientNameError(
                "no such client folder",
                where=text,
                expected="an existing folder with a client.yaml",
                found="nothing at that path",
                fix="check the path, or create the client with `journey init NAME`",
            )
        return path.resolve()
    name = check_name(text)
    path = data_dir() / name
    if not path.is_dir():
        raise ClientNameError(
            "no such client",
            where=f"data/{name}",
            expected=f"a folder data/{name} with a client.yaml",
            found="nothing",
            fix=f"run `journey init {name}`, or give the path of an existing client folder",
        )
    return path.resolve()


def client_dir_for_new(arg: str | Path) -> Path:
    """Where ``journey init`` / ``journey synth`` create a client: a name under ``data/`` or a path."""
    text = str(arg)
    if isinstance(arg, Path) or _is_pathlike(text):
        path = Path(text).expanduser()
        if ".." in path.parts:
            raise ClientNameError(
                "a client path may not contain '..'",
                where=text,
                expected="a name under data/ or a path without '..'",
                found=repr(text),
                fix="give the folder's full path, or a plain name under data/",
            )
        return path.resolve()
    return (data_dir() / check_name(text)).resolve()
