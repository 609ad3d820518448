import { defineWorkflow } from "@cairn/worker";

/**
 * Rebuilds a cache. At most one refresh is active; a refresh requested while one runs is dropped (recorded on the
 * dropped run), because the running one already brings the cache up to date.
 */
export default defineWorkflow({
  name: "Refresh cache",
  description: "Rebuilds the cache; a singleton.",
  mode: "singleton",
  onBusy: "drop",
});
