import type { AuditReport } from '../audit/audit.js';
import type { ClusterView } from '../cluster/cluster-view.js';
import type { Config } from '../config/types.js';
import type { AuditOptions, CommandIo } from './audit-command.js';

/** Audits a live cluster through paged lists. */
export async function liveAudit(_options: AuditOptions, _io: CommandIo): Promise<{ report: AuditReport; view: ClusterView; config: Config }> {
  throw new Error('a live audit is not available in this build; pass -f with manifests');
}
