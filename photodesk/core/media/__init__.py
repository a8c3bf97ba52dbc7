"""Media files: format sniffing, metadata readers, derivative rendering (thumbnails, previews) and
offline places.

Pure functions over files and bytes; may import the catalog's plain types only.
"""
