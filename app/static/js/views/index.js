/* The page's views, in the order of their buttons. A view is { id, enter, leave, render,
   hoverText, available? }; its panel section is #view-<id>, its button [data-view=<id>]. */
import change from "./change.js";
import downloads from "./downloads.js";
import hotspots from "./hotspots.js";
import map from "./map.js";
import needs from "./needs.js";
import storm from "./storm.js";

export const VIEWS = [map, storm, hotspots, change, needs, downloads];

export function viewOf(id) { return VIEWS.find((v) => v.id === id) || VIEWS[0]; }
