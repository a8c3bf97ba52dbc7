"""The catalog: plain types, errors and change events, the store services are built on (store:
engines, one writer / many readers, library paths, the acting user), and the storage layer (db/:
engines, schema, migrations, repositories).

May import: nothing else of the core (it is the bottom layer). Everything above builds on it.
"""
