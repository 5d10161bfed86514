"""Raw client files to validated tables: find, parse, validate, quarantine, personas, the lazy Parquet path and its cache, ``Client`` and ``load_client``."""
