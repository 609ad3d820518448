import type { Backend } from "@cairn/backend-interface";
import type { LayoutContext } from "./html/layout.js";

/** What every page and action of one dashboard shares. */
export interface PageEnv extends LayoutContext {
  backend: Backend;
  /** This dashboard instance's form token: every action form carries it, every action checks it. */
  formToken: string;
  /** Now, in µs, from the backend's clock. */
  nowUs: () => number;
}
