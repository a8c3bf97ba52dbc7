"""Inference: what the core asks of ML models (ports: image/text embedders, face analysers) and the
set the composition root attaches to a library (models: ``lib.ml``, loaded on first use).

May import: nothing of the core but itself (numpy types only); photodesk.ml implements the ports.
"""
