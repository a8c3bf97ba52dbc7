"""Keeping a library healthy: catalog and file checks (check), catalog backups, crash leftovers,
and ``lib.maintenance`` (service).

May import: ingest and everything below it.
"""
