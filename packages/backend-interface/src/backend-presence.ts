import type { BackendDriver } from "./backend-driver.js";
import { BackendWork } from "./backend-work.js";
import type { ActiveWorkersOptions } from "./analytics/workers.js";
import { isValidIdentifier } from "./identifiers.js";
import {
  mergeWorkerPresence,
  PRESENCE_WINDOW_US,
  validatePresenceInput,
  type LiveWorkerInfo,
  type WorkerPresence,
  type WorkerPresenceInput,
} from "./worker-presence.js";

export type { PresenceFilter } from "./backend-driver.js";

/**
 * The worker-presence layer of Backend: workers write their own presence record (recordWorkerPresence) at an interval
 * independent of steps, so an idle, healthy worker looks alive; the active-workers view combines those records with
 * the figures from step events (the reference's, or a driver's equal aggregate), so every driver answers the same.
 */
export abstract class BackendPresence<D extends BackendDriver = BackendDriver> extends BackendWork<D> {
  /**
   * Records that a worker is alive now (the backend's clock), replacing its previous record; with `stopped`, marks
   * it stopped (inactive from then on). Throws InvalidIdentifierError / InvalidArgumentError before any I/O.
   */
  async recordWorkerPresence(input: WorkerPresenceInput): Promise<WorkerPresence> {
    const { stopped, ...valid } = validatePresenceInput(input);
    const nowUs = this.clock.nowUs();
    const presence: WorkerPresence = {
      ...valid,
      workflows: [...valid.workflows],
      lastSeenUs: nowUs,
      ...(stopped ? { stoppedAtUs: nowUs } : {}),
    };
    await this.store.putWorkerPresence(presence);
    return presence;
  }

  /** Workers seen in the last 24 h, through step events or their presence record; inactive ones only with includeInactive. */
  override async getActiveWorkers(options: ActiveWorkersOptions = {}): Promise<LiveWorkerInfo[]> {
    const fromEvents = await super.getActiveWorkers({ ...options, includeInactive: true });
    const nowUs = this.clock.nowUs();
    const presences = await this.store.readWorkerPresences({ seenSinceUs: nowUs - PRESENCE_WINDOW_US });
    return mergeWorkerPresence(fromEvents, presences, options, nowUs);
  }

  /** One worker's record (step events and presence), or null. */
  override async getWorkerById(workerId: string): Promise<LiveWorkerInfo | null> {
    const fromEvents = await super.getWorkerById(workerId);
    const nowUs = this.clock.nowUs();
    // An id no presence record can have (see assertWorkerId) is known through step events only.
    const presences = isValidIdentifier("workerId", workerId)
      ? await this.store.readWorkerPresences({ seenSinceUs: nowUs - PRESENCE_WINDOW_US, workerId })
      : [];
    return (
      mergeWorkerPresence(
        fromEvents ? [fromEvents] : [],
        presences.filter((p) => p.workerId === workerId),
        { includeInactive: true },
        nowUs,
      )[0] ?? null
    );
  }
}
