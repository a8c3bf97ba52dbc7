"""Search: free text and filters (query), CLIP smart search (smart) and the in-memory vector index.

May import: catalog, media, jobs.
"""
