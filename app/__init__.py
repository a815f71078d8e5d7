"""DTM Geo: IOM DTM Libya displacement data in PostGIS, served over HTTP."""
