import { randomBytes, randomFillSync } from "node:crypto";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
let counter = 0;
const processTag = randomBytes(4).toString("hex");

function base36(n: number, width: number): string {
  let s = "";
  for (let i = 0; i < width; i++) {
    s = ALPHABET[n % 36] + s;
    n = Math.floor(n / 36);
  }
  return s;
}

/** A new event id: sortable by creation time within a process, unique across processes. */
export function newEventId(nowUs: number = Date.now() * 1000): string {
  counter = (counter + 1) % 36 ** 4;
  return `${base36(nowUs, 11)}${base36(counter, 4)}${processTag}`;
}

/** Random bytes drawn from the system's CSPRNG a block at a time (one call per 1,024 run ids, not one per id). */
const pool = Buffer.alloc(6 * 1024);
let poolOffset = pool.length;

function randomHex6(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += 6;
  return pool.toString("hex", poolOffset - 6, poolOffset);
}

/** A new run id: time-prefixed, random-suffixed, a valid identifier. */
export function newRunId(nowUs: number = Date.now() * 1000): string {
  return `run_${base36(Math.floor(nowUs / 1000), 9)}${randomHex6()}`;
}
