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
  JavaScript. :func:`journeylib.present.render.cached_vega_bundle` keeps the result in a file keyed by the
  vl-convert version, the vega-lite version and the renderer's source, so a run
  builds it at most once (and later runs not at all).
  :func:`journeylib.present.render.vega_bundle` reads it through this cache in every
  process, JupyterLab included.

The runner loads this module into every kernel as an IPython extension
(``--IPKernelApp.extensions=journeylib.report.warmup``) to keep the ``iri``
parser out: nothing appears in the notebook's namespace or outputs, and a
notebook opened in JupyterLab runs exactly as before, only without that
shortcut. A failure here never stops a notebook: every step falls back to the
normal, slower path.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = [
    "load_ipython_extension",
    "skip_slow_iri_checker",
]


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


def load_ipython_extension(ipython: Any) -> None:  # noqa: ARG001 - IPython's signature
    """Run when a kernel starts with ``--IPKernelApp.extensions=journeylib.report.warmup``."""
    skip_slow_iri_checker()
