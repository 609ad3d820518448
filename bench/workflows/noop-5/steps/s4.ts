import { defineStep } from "@cairn/worker";
import workflow from "../workflow.js";
import s3 from "./s3.js";

export default defineStep({ workflow, dependencies: { s3 }, run: async (ctx) => ({ n: ctx.deps.s3.n + 1 }) });
