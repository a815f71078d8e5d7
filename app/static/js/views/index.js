/* The page's views, in the order of their buttons. A view is { id, enter, leave, render,
   hoverText, available? }; its panel section is #view-<id>, its button [data-view=<id>]. */
import downloads from "./downloads.js";
import hotspots from "./hotspots.js";
import map from "./map.js";
import storm from "./storm.js";

export const VIEWS = [map, storm, hotspots, downloads];

export function viewOf(id) { return VIEWS.find((v) => v.id === id) || VIEWS[0]; }
