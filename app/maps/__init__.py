"""Maps drawn by the server: the classes every map of a view shares (the web map uses
them too) and the static SVG map of a view (the page without WebGL; print maps later)."""
