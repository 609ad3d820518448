import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";
import s2 from "./s2.js";

export default defineStep({ workflow, dependencies: { s2 }, run: async (ctx) => ({ n: ctx.deps.s2.n + 1 }) });
