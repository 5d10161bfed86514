"""The scaffold of ``journey init``: a new client folder, ready to fill.

A ``client.yaml`` (the shipped ``templates/client.yaml``, with the client's
name and journey template set) and a header-only CSV for every table of
``data.md``. The importers create a client folder the same way.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from journeylib.errors import JourneyError
from journeylib.paths import EXTENSIONS, client_dir_for_new, templates_dir
from journeylib.schemas import TABLE_ORDER, TABLES

__all__ = ["init_client"]

_MINIMAL_CLIENT_YAML = """\
# client.yaml: who the client is and how to read its journey (see templates/client.yaml).
client: Client name
journey: b2b_saas_8_stage
currency: USD
timezone: UTC
"""


def _set_key(text: str, key: str, value: str) -> str:
    """Set a top-level ``key:`` line of a YAML text, keeping comments; add it when absent."""
    line = re.compile(rf"^{key}:[ \t]*(?P<value>[^#\n]*?)(?P<comment>[ \t]+#[^\n]*)?$", re.M)
    quoted = json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML scalar
    if line.search(text):
        return line.sub(lambda m: f"{key}: {quoted}{m.group('comment') or ''}", text, count=1)
    return f"{key}: {quoted}\n{text}"


def init_client(
    dir: str | Path,  # noqa: A002 - the CLI's word for it
    *,
    template: str = "b2b_saas_8_stage",
    name: str | None = None,
) -> Path:
    r"""Create a client folder: a ``client.yaml`` and header-only CSVs for every table.

    ``client.yaml`` is ``templates/client.yaml`` with ``client:`` set to ``name``
    (default: the folder name) and ``journey:`` to ``template``. Existing table
    files are left alone; an existing ``client.yaml`` is never overwritten.

    Args:
        dir: a client name under ``data/`` or a folder path.
        template: the journey template name, or a path relative to the client folder.
        name: the client's display name.

    Returns:
        The client folder.

    Raises:
        JourneyError: when the folder already has a ``client.yaml``.

    Examples:
        >>> import tempfile
        >>> d = init_client(Path(tempfile.mkdtemp()) / "acme", template="saas_5_stage")
        >>> sorted(p.name for p in d.iterdir())[:3]
        ['accounts.csv', 'client.yaml', 'events.csv']
        >>> (d / "events.csv").read_text()
        'timestamp,account_id,anonymous_id,user_id,event,channel,campaign,variant\n'
    """
    path = client_dir_for_new(dir)
    cfg_path = path / "client.yaml"
    if cfg_path.exists():
        raise JourneyError(
            "the client already exists",
            where=cfg_path,
            expected="a new client folder",
            found="an existing client.yaml",
            fix="pick another name, or edit the existing client.yaml",
        )
    source = templates_dir() / "client.yaml"
    text = source.read_text(encoding="utf-8") if source.is_file() else _MINIMAL_CLIENT_YAML
    text = _set_key(text, "client", name or path.name)
    text = _set_key(text, "journey", template)
    path.mkdir(parents=True, exist_ok=True)
    for table in TABLE_ORDER:
        if any((path / f"{table}{ext}").exists() for ext in EXTENSIONS):
            continue
        (path / f"{table}.csv").write_text(
            ",".join(TABLES[table].column_names) + "\n", encoding="utf-8"
        )
    cfg_path.write_text(text, encoding="utf-8")
    return path
