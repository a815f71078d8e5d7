"""Geometry work done in Python with geopandas and shapely (reading layers, deriving shapes)."""
