/* The page's fixed vocabulary: population types, palettes, zooms, URLs of its own assets. */

export const TYPES = ["idp", "returnee", "migrant"];
export const PLURAL = { idp: "idps", returnee: "returnees", migrant: "migrants" };
// viridis, 6 classes, light (low) to dark (high): colour-blind safe and prints in grey
export const VIRIDIS = ["#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154"];
export const NO_DATA = "#e3e3e3";
// Okabe-Ito, for the three series of the chart
export const SERIES = { idp: "#E69F00", returnee: "#0072B2", migrant: "#009E73" };
// ColorBrewer RdBu (colour-blind safe) for Gi* classes
export const HS = [
  ["hot spot 99%", "#b2182b"], ["hot spot 95%", "#ef8a62"], ["hot spot 90%", "#fddbc7"],
  ["not significant", "#f7f7f7"],
  ["cold spot 90%", "#d1e5f0"], ["cold spot 95%", "#67a9cf"], ["cold spot 99%", "#2166ac"],
];
export const STORM_ROUND = "storm-daniel-2023-10-31";
// muhallas (DTM admin 3) are drawn close up only, from the zoom at which the service's
// own tiles start them (the stats-admin3 and muhallas tile layers' minzoom)
export const MUHALLA_ZOOM = 8;
export const MUHALLA_MAX_RADIUS = 18;
export const EMPTY = { type: "FeatureCollection", features: [] };
// place names: SDF glyphs the service serves (tools/make_glyphs.py), one fontstack for
// Latin and Arabic; Arabic shaped and set right to left by the RTL text plugin
export const GLYPHS = location.origin + "/glyphs/{fontstack}/{range}.pbf";
export const FONT = ["Noto Sans Regular"];
export const RTL_PLUGIN = location.origin + "/static/vendor/mapbox-gl-rtl-text-0.3.0/mapbox-gl-rtl-text.js";
// the zooms at which each level's names are written (collisions drop what does not fit)
export const LABEL_ZOOMS = { 1: [0, 7.5], 2: [6, 24], 3: [8, 24] };
// The southern edge of an outline tile layer, where known: the lowest latitude of its
// land (COD-AB, rounded down) in each half degree of longitude. The desktop legend may
// sit south of it (Libya's: over Algeria, Niger and Chad) without covering the country;
// for an outline without one, the legend keeps clear of the operation's whole bounds.
export const SOUTH_EDGES = { mantikas: { from: 9.25, step: 0.5, lat: [25.7, 24.6, 24.4, 24.3, 23.9, 23.4, 23.3, 23.2, 23.0, 22.6, 22.6,
  22.8, 23.1, 23.3, 23.1, 22.8, 22.6, 22.3, 22.1, 21.9, 21.6, 21.4, 21.1, 20.9, 20.6, 20.4, 20.1, 19.8, 19.6, 19.5, 20.0, 20.0] } };
