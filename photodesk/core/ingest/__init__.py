"""Getting files in: scanning folders, analysing files in worker processes, writing them to the
catalog (importer, uploads, watched folders), and the import, metadata-refresh and thumbnail job
handlers (jobs).

May import: people, search, accounts, organize, jobs, media, inference, catalog.
"""
