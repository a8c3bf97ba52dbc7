"""Faces and people: stored faces, incremental clustering, face crops, the people service (name,
merge, hide, assign) and the ``faces`` / ``faces.cluster`` job handlers (jobs).

May import: search, accounts, organize, jobs, media, inference, catalog.
"""
