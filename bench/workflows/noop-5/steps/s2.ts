import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";
import s1 from "./s1.js";

export default defineStep({ workflow, dependencies: { s1 }, run: async (ctx) => ({ n: ctx.deps.s1.n + 1 }) });
