import { defineE2eSuite } from "./support/e2e-suite.js";
import { DRIVERS } from "./support/drivers.js";

defineE2eSuite(DRIVERS.sqlite, { isolation: true });
