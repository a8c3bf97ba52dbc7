"""Faces and people: stored faces, incremental clustering, face crops, and the people service
(name, merge, hide, assign).

May import: catalog, media, jobs.
"""
