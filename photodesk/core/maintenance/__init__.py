"""Keeping a library healthy: catalog and file checks (check), catalog backups, crash leftovers.

May import: catalog, media, ingest, jobs.
"""
