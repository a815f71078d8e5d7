/* Drawing a thematic layer the service classed (the change map, an indicator's map) on
   the map's own sources: polygons on "stats", points on "points"; and its legend rows. */
import { clearLayers, ctx, highlight } from "./mapview.js";
import { el } from "./dom.js";

/** Draw `fc` coloured by `colour` (a MapLibre expression); areas as polygons or points,
    as their geometry is (areas without a geometry are left out by MapLibre). */
export function drawLayer(fc, colour, dashed) {
  const map = ctx.map;
  if (!map) return;
  clearLayers();
  const points = fc.features.some((f) => f.geometry && f.geometry.type === "Point");
  if (points) {
    map.getSource("points").setData(fc);
    map.setPaintProperty("points-circle", "circle-color", colour);
    map.setPaintProperty("points-circle", "circle-radius", 6);
  } else {
    map.getSource("stats").setData(fc);
    for (const id of ["stats-fill", "stats-fill-multi"]) {
      map.setPaintProperty(id, "fill-color", colour);
      map.setPaintProperty(id, "fill-opacity", 0.9);
    }
    map.setPaintProperty("stats-line", "line-dasharray", dashed ? [2, 2] : [1, 0]);
    // grey lines: an area in the near-white middle class keeps its outline
    map.setPaintProperty("stats-line", "line-color", dashed ? "#666" : "#aaa");
  }
  highlight();
}

/** A step expression over the server's classes (cuts: lower bounds; a value on a cut in
    the class above, as app/maps/classes.py has it). */
export function stepExpr(value, classes) {
  const colours = classes.classes.map((c) => c.colour);
  if (!classes.cuts.length) return colours[0] || classes.no_data;
  const step = ["step", value, colours[0]];
  classes.cuts.forEach((c, i) => step.push(c, colours[i + 1]));
  return step;
}

/** One legend row: a swatch and its text. */
export function swatch(colour, text, testid) {
  return el("li", { "data-testid": testid || null }, el("span", { class: "sw", style: `background:${colour}` }), el("span", { text }));
}
