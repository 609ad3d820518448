import type { EventOf } from "./events.js";
import { InvalidArgumentError } from "./errors.js";

/** What a step says it touched: how (`linkType`), the entity (`entityType`, `entityId`) and its outside id. */
export interface LinkSpec {
  linkType: string;
  entityType: string;
  entityId: string;
  externalId?: string;
}

/** One link as a step (or the tracker) reports it: the spec and the attempt that made it. */
export interface LinkInput extends LinkSpec {
  attemptNumber: number;
  /** The child step (`ctx.step`) that made the link, as its path; absent: the step itself. */
  childId?: string;
}

/** A stored link: where it was made and when. */
export interface StepLink extends LinkInput {
  workflowSlug: string;
  runId: string;
  stepId: string;
  linkedAtUs: number;
}

/** What findEntityLinks looks up: one entity, at most `limit` links (default 100, at most 1000). */
export interface EntityQuery {
  entityType: string;
  entityId: string;
  limit?: number;
}

const NUL = /\u0000/;

/** Checks a link; throws InvalidArgumentError naming the field. */
export function validateLinkSpec(link: unknown): LinkSpec {
  if (link === null || typeof link !== "object")
    throw new InvalidArgumentError(
      'A link needs { linkType, entityType, entityId, externalId? }, e.g. { linkType: "output", entityType: "transaction", entityId: "tx_123" }.',
    );
  const l = link as Partial<LinkSpec>;
  const text = (field: keyof LinkSpec, max: number, optional = false): void => {
    const v = l[field];
    if (optional && v === undefined) return;
    if (typeof v !== "string" || v.trim().length === 0 || v.length > max || NUL.test(v)) {
      throw new InvalidArgumentError(
        `A link's ${field} must be a non-empty string of at most ${max} characters without NUL, got ${JSON.stringify(v) ?? String(v)}.`,
        { field },
      );
    }
  };
  text("linkType", 100);
  text("entityType", 100);
  text("entityId", 500);
  text("externalId", 500, true);
  if ((l.entityType as string).includes(":"))
    throw new InvalidArgumentError(
      `A link's entityType must not contain ':' (an entity is written type:id), got ${JSON.stringify(l.entityType)}.`,
      { field: "entityType" },
    );
  return {
    linkType: l.linkType!,
    entityType: l.entityType!,
    entityId: l.entityId!,
    ...(l.externalId !== undefined ? { externalId: l.externalId } : {}),
  };
}

/** Checks an entity query and fills its limit. */
export function validateEntityQuery(q: EntityQuery): Required<EntityQuery> {
  validateLinkSpec({ linkType: "query", entityType: q?.entityType, entityId: q?.entityId });
  const limit = q.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000)
    throw new InvalidArgumentError(`limit must be an integer from 1 to 1000, got ${String(q.limit)}.`, {
      field: "limit",
    });
  return { entityType: q.entityType, entityId: q.entityId, limit };
}

/** Parses `transaction:tx_123` (the type is up to the first `:`); throws InvalidArgumentError. */
export function parseEntityRef(text: string): { entityType: string; entityId: string } {
  const i = text.indexOf(":");
  if (i <= 0 || i === text.length - 1)
    throw new InvalidArgumentError(
      `An entity is written type:id (e.g. transaction:tx_123), got ${JSON.stringify(text)}.`,
      { field: "entity" },
    );
  return { entityType: text.slice(0, i), entityId: text.slice(i + 1) };
}

/** The link a StepLinked event records. */
export function stepLinkOf(e: EventOf<"StepLinked">): StepLink {
  return {
    workflowSlug: e.workflowSlug,
    runId: e.runId,
    stepId: e.stepId,
    attemptNumber: e.attemptNumber,
    linkType: e.linkType,
    entityType: e.entityType,
    entityId: e.entityId,
    ...(e.externalId !== undefined ? { externalId: e.externalId } : {}),
    linkedAtUs: e.timestampUs,
    ...(e.childId !== undefined ? { childId: e.childId } : {}),
  };
}

/**
 * The order of findEntityLinks, on every driver: newest link first (timestampUs descending), then eventId descending.
 * Returns the events sorted so.
 */
export function sortLinkEvents(events: Array<EventOf<"StepLinked">>): Array<EventOf<"StepLinked">> {
  return events.sort(
    (a, b) => b.timestampUs - a.timestampUs || (a.eventId < b.eventId ? 1 : a.eventId > b.eventId ? -1 : 0),
  );
}
