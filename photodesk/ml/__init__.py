"""Machine learning on onnxruntime (a leaf: numpy, Pillow, onnxruntime, tokenizers, dlib).

Entry point: ``backends.load_backends(models_dir, clip=..., faces=..., providers=...)``, which
returns objects satisfying core/ports.py: ``clip.ClipModel`` (image and text embedder),
``faces_insight.InsightFaceAnalyzer`` or ``faces_dlib.DlibFaceAnalyzer`` (face analyzers).
``model_store.ModelStore`` manages the packs, ``runtime`` the onnxruntime sessions.
"""
