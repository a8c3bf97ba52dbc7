"""The job engine: job names and queues (kinds), typed payloads, persisted jobs claimed by worker
threads, retried and recovered (engine), and the service front ends use (service). Job handlers
live with their domains and are registered in ``photodesk.core.handlers``.

May import: media, inference, catalog.
"""
