"""Live sources: rounds pulled from the DTM API and from HDX, through the ingest pipeline."""
