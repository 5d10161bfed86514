"""Start-up work a run does once instead of once per notebook kernel.

Measured on the demo (2 cores), each of the seven kernels of a run paid, before
any notebook cell did real work:

* about 2-3 s importing ``jsonschema`` (through altair, and through nbformat in
  the driver): ``jsonschema`` imports the optional ``rfc3987_syntax`` package,
  which builds ~35 Earley parsers for the ``iri`` formats at import time
  (python-jsonschema/jsonschema#1428). Neither the vega-lite schema (only
  ``uri``, ``uri-reference`` and ``color-hex`` formats) nor the notebook schema
  uses an ``iri`` format, so :func:`skip_slow_iri_checker` keeps that package
  out of the process; ``jsonschema`` then simply has no ``iri`` checker.
* about 2.5 s in ``vl_convert.javascript_bundle()``, which bundles vega,
  vega-lite and vega-embed anew on every call, for the same 0.9 MB of
  JavaScript. :func:`cached_vega_bundle` keeps the result in a file keyed by the
  vl-convert version, the vega-lite version and the renderer's source, so a run
  builds it at most once (and later runs not at all).

The runner loads this module into every kernel as an IPython extension
(``--IPKernelApp.extensions=journeylib.report.warmup``): nothing appears in the
notebook's namespace or outputs, and a notebook opened in JupyterLab runs
exactly as before, only without these shortcuts. A failure here never stops a
notebook: every step falls back to the normal, slower path.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "bundle_cache_dir",
    "cached_vega_bundle",
    "load_ipython_extension",
    "skip_slow_iri_checker",
]

# The bundle defines this; a cache file without it is not a bundle (truncated, foreign).
_BUNDLE_MARK = "window.vegaEmbed"


def skip_slow_iri_checker() -> bool:
    """Keep ``rfc3987_syntax`` from loading, when ``jsonschema`` is not imported yet.

    ``jsonschema`` tries the import inside ``suppress(ImportError)``; a ``None``
    entry in ``sys.modules`` makes it raise ImportError, so the ``iri`` and
    ``iri-reference`` format checkers are simply not registered.

    Returns:
        True when the package is now kept out (or already was), False when
        ``jsonschema`` was imported before and it is too late.

    Examples:
        >>> isinstance(skip_slow_iri_checker(), bool)
        True
    """
    if "rfc3987_syntax" in sys.modules:
        return sys.modules["rfc3987_syntax"] is None
    if "jsonschema" in sys.modules:
        return False
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
    return True


def bundle_cache_dir() -> Path:
    """Where the vega bundle is kept: ``$JOURNEY_CACHE_DIR``, else the user cache folder.

    The user cache folder is ``$XDG_CACHE_HOME/journeylib`` (default
    ``~/.cache/journeylib``).
    """
    explicit = os.environ.get("JOURNEY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "journeylib"


def _bundle_key() -> str:
    """Everything the bundle's text depends on: vl-convert, vega-lite version, render.py."""
    import vl_convert as vlc

    from journeylib import render

    source = Path(render.__file__).read_bytes()
    parts = [
        getattr(vlc, "__version__", "?"),
        str(render._vl_version()),
        hashlib.sha256(source).hexdigest(),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def cached_vega_bundle(
    build: Callable[[], str] | None = None, *, cache_dir: Path | None = None
) -> str:
    """The vega bundle of ``journeylib.render.vega_bundle()``, read from a file when built before.

    Args:
        build: what builds the bundle when there is no cache file (default: the
            renderer's own ``vega_bundle``, unwrapped from any cache).
        cache_dir: the cache folder (default :func:`bundle_cache_dir`).

    Returns:
        The same text ``build()`` returns. When the cache folder cannot be read
        or written the bundle is built as usual.
    """
    if build is None:
        from journeylib import render

        build = getattr(render.vega_bundle, "__wrapped__", render.vega_bundle)
    try:
        path = (cache_dir or bundle_cache_dir()) / f"vega-bundle-{_bundle_key()}.js"
    except Exception:  # no home folder, renderer missing: no cache, never no chart
        return build()
    try:
        text = path.read_text(encoding="utf-8")
        if _BUNDLE_MARK in text:
            return text
    except (OSError, UnicodeDecodeError):
        pass
    text = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a kernel reading at the same moment sees
        # either no file or a whole one.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".vega-bundle-", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError:
        pass
    return text


def _use_cached_bundle() -> None:
    """Point ``journeylib.render.vega_bundle`` at the file-cached bundle (in this process)."""
    from journeylib import render

    original: Any = render.vega_bundle
    if getattr(original, "_jw_file_cached", False):
        return
    build = getattr(original, "__wrapped__", original)

    @functools.cache
    def vega_bundle() -> str:
        return cached_vega_bundle(build)

    vega_bundle.__doc__ = original.__doc__
    vega_bundle._jw_file_cached = True  # type: ignore[attr-defined]
    render.vega_bundle = vega_bundle  # type: ignore[assignment]


def load_ipython_extension(ipython: Any) -> None:  # noqa: ARG001 - IPython's signature
    """Run when a kernel starts with ``--IPKernelApp.extensions=journeylib.report.warmup``."""
    skip_slow_iri_checker()
    try:
        _use_cached_bundle()
    except Exception:  # noqa: S110 - without the cache the notebook still draws, only slower
        pass
