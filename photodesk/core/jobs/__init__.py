"""The job engine: persisted jobs in named queues, claimed by worker threads, retried and recovered
(engine), and the service front ends use (service). Job handlers live with their domains.

May import: catalog.
"""
