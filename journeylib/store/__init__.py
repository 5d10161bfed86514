"""The client store: a client ingested once, read by every command (``docs/scaling.md``).

:func:`ensure_store` returns a client's current :class:`Store` (building it
when missing or stale); ``Store.client()`` is the client as every command
reads it, ``Store.stream()`` the sorted journey stream and ``Store.mart(name)``
the per-account marts. :mod:`journeylib.store.layout` is the contract of its
files.
"""

from journeylib.store.build import Store, ensure_store, read_store
from journeylib.store.layout import MARTS, STORE_FORMAT, store_root

__all__ = ["MARTS", "STORE_FORMAT", "Store", "ensure_store", "read_store", "store_root"]
