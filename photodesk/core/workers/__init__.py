"""Workers: other machines that take ML jobs over HTTP (``photodesk worker``): their tokens and
the job hand-over (claim, preview, heartbeat, result, failure).

May import: ingest, people, search, accounts, organize, jobs, media, inference, catalog (it
stores what the local clip and faces jobs would).
"""
