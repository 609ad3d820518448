export { defineConformanceSuite } from "./suite.js";
export type {
  BackendOpener,
  ConformanceCapabilities,
  ConformanceHarness,
  ConformanceInstance,
  CorruptTarget,
} from "./support/harness.js";
export { T0_US } from "./support/lifecycle.js";
