"""The catalog: plain types, errors and change events, and the storage layer (db/: engines, schema,
migrations, repositories).

May import: nothing else of the core (it is the bottom layer). Everything above builds on it.
"""
