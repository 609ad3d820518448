import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { errorData } from "./step-context.js";
import { isTypeScriptFile } from "./typescript-loader.js";
import type { StepOutcome, StepRunner } from "./step-runner.js";
import type { ChildMessage, ParentMessage } from "./child-entry.js";

/**
 * A runner that runs each attempt in a fresh child process (`node [--import tsx] child-entry.js`). The child imports the
 * step file, runs it, and reports logs, progress, checkpoints, calls and child steps over IPC; the parent keeps heartbeating and does every
 * write. An abort is forwarded; a child that does not settle within `abortGraceMs` is killed. A child that exits
 * without a result (crash, `process.exit`, out of memory) fails the attempt with `crashed: true` (`worker-crash`).
 */
export function runInChild(options: { abortGraceMs: number }): StepRunner {
  // The entry beside this file: child-entry.js when built, child-entry.ts when the sources run (through tsx).
  const fromSource = isTypeScriptFile(fileURLToPath(import.meta.url));
  const entry = fileURLToPath(new URL(fromSource ? "./child-entry.ts" : "./child-entry.js", import.meta.url));
  const tsx = import.meta.resolve("tsx");
  // The child resolves packages as the parent does: its --conditions, and the sources' own when they run.
  const inherited = conditionFlags(process.execArgv);
  const conditions = [...new Set([...(fromSource ? ["--conditions=@cairn/source"] : []), ...inherited])];
  return (job, _declaration, io, signal) =>
    new Promise<StepOutcome>((resolve) => {
      const execArgv = [...conditions, ...(fromSource || isTypeScriptFile(job.file) ? ["--import", tsx] : [])];
      const child = fork(entry, [], { execArgv, serialization: "advanced", stdio: ["ignore", "pipe", "pipe", "ipc"] });
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      const finish = (o: StepOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(killTimer);
        signal.removeEventListener("abort", onAbort);
        resolve(o);
        if (child.exitCode === null && child.signalCode === null) setTimeout(() => child.kill("SIGKILL"), 1000).unref();
      };
      const lines = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
        for (const line of chunk.toString("utf8").split("\n")) if (line.length) io.log(stream, line);
      };
      child.stdout?.on("data", lines("stdout"));
      child.stderr?.on("data", lines("stderr"));
      const send = (m: ParentMessage): void => {
        if (child.connected) child.send(m);
      };
      const onAbort = (): void => {
        send({ t: "abort", reason: String((signal.reason as Error | undefined)?.message ?? "aborted") });
        killTimer = setTimeout(() => {
          child.kill("SIGKILL");
          finish({ kind: "abandoned" });
        }, options.abortGraceMs);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      child.on("message", (raw) => {
        const m = raw as ChildMessage;
        switch (m.t) {
          case "log":
            return io.log(m.stream, m.message, m.progress);
          case "progress":
            return io.progress(m.fraction, m.message);
          case "checkpoint":
            return void io.saveCheckpoint(m.name, m.sequenceNumber, m.data).then(
              () => send({ t: "ack", id: m.id }),
              (err: unknown) => send({ t: "ack", id: m.id, error: errorData(err) }),
            );
          case "checkpoint-failed":
            return void io.saveCheckpointFailed(m.name, m.sequenceNumber, m.error).catch(() => {});
          case "call":
            return io.call(m.call);
          case "increment":
            return io.increment(m.counters, m.childId);
          case "link":
            return io.link(m.link, m.childId);
          case "child":
            return void io.child(m.child).then(
              () => send({ t: "ack", id: m.id }),
              (err: unknown) => send({ t: "ack", id: m.id, error: errorData(err) }),
            );
          case "result":
            return finish(m.outcome);
        }
      });
      child.on("error", (err) =>
        finish({
          kind: "failed",
          crashed: true,
          error: { name: "WorkerCrashError", message: `could not run the step process: ${err.message}` },
        }),
      );
      // Let a result sent just before exiting arrive first.
      child.on("exit", (code, sig) =>
        setTimeout(
          () =>
            finish({
              kind: "failed",
              crashed: true,
              error: {
                name: "WorkerCrashError",
                message: `the step process exited before finishing (${sig ? `signal ${sig}` : `code ${code}`})`,
              },
            }),
          100,
        ),
      );
      if (signal.aborted) onAbort();
      send({ t: "start", job });
    });
}

/** The --conditions flags among node's arguments, each as `--conditions=<name>`. */
function conditionFlags(argv: readonly string[]): string[] {
  return argv.flatMap((a, i) => {
    if (/^(--conditions|-C)=/.test(a)) return [a.replace(/^-C=/, "--conditions=")];
    const next = argv[i + 1];
    return (a === "--conditions" || a === "-C") && next !== undefined ? [`--conditions=${next}`] : [];
  });
}
