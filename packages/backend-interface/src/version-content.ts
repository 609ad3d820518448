import { canonicalJson } from "./canonical-json.js";
import type { WorkflowVersion } from "./schemas.js";

/**
 * True when two versions have the same content: every field but createdAtUs, compared as canonical JSON (key order
 * and absent-versus-undefined fields do not matter). The one definition of "the same version again" that
 * createWorkflowVersion applies on every driver: the same id with other content is a VersionConflictError.
 */
export function sameVersionContent(a: WorkflowVersion, b: WorkflowVersion): boolean {
  const content = ({ createdAtUs: _createdAtUs, ...rest }: WorkflowVersion) =>
    canonicalJson(JSON.parse(JSON.stringify(rest)));
  return content(a) === content(b);
}
