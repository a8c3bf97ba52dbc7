"""Search: free text and filters (query), CLIP smart search (smart), the in-memory vector index and
the ``clip`` job handler (jobs).

May import: accounts, organize, jobs, media, inference, catalog.
"""
