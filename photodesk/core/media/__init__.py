"""Media files: format sniffing, metadata readers, derivative rendering (thumbnails, previews, the
viewer's full-size decode, metadata-free JPEG export) and offline places.

Pure functions over files and bytes; may import the catalog's plain types only.
"""
