"""Machine learning on onnxruntime (a leaf: numpy, Pillow, onnxruntime only); see core/ports.py."""
