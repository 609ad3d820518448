import { randomBytes, randomFillSync } from "node:crypto";

let counter = 0;
const processTag = randomBytes(4).toString("hex");

/** `n` in base 36 (0-9a-z), zero-padded to `width` digits (its low `width` digits when longer). */
function base36(n: number, width: number): string {
  const digits = Math.floor(n).toString(36);
  return digits.length >= width ? digits.slice(digits.length - width) : digits.padStart(width, "0");
}

/** A new event id: sortable by creation time within a process, unique across processes. */
export function newEventId(nowUs: number = Date.now() * 1000): string {
  counter = (counter + 1) % 36 ** 4;
  return `${base36(nowUs, 11)}${base36(counter, 4)}${processTag}`;
}

/** Random bytes drawn from the system's CSPRNG a block at a time (one call per 1,024 run ids, not one per id). */
const pool = Buffer.alloc(4 * 1024);
let poolOffset = pool.length;
let runCounter = randomBytes(3).readUIntBE(0, 3) % 36 ** 4;

function randomHex4(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += 4;
  return pool.toString("hex", poolOffset - 4, poolOffset);
}

/**
 * A new run id, a valid identifier: `run_`, the millisecond (9 base-36 digits), a per-process counter (4 digits) and
 * 32 random bits. Ids made one after the other by a process sort in that order, so the runs of a batch, which are
 * claimed in submission order, sit next to each other in every index keyed by run id (their writes touch a few
 * B-tree pages, not one page per run); the random part keeps ids of different processes apart.
 */
export function newRunId(nowUs: number = Date.now() * 1000): string {
  runCounter = (runCounter + 1) % 36 ** 4;
  return `run_${base36(Math.floor(nowUs / 1000), 9)}${base36(runCounter, 4)}${randomHex4()}`;
}
