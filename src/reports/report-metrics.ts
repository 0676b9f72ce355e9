import { Counter, Gauge, type Registry } from 'prom-client';

export interface ReportMetrics {
  readonly written: Counter<'operation'>;
  readonly errors: Counter<'operation'>;
  readonly leader: Gauge;
  readonly passes: Counter;
}

/** The report mode's metrics: writes by operation, errors, passes, and whether this replica leads. */
export function createReportMetrics(registry: Registry): ReportMetrics {
  return {
    written: new Counter({
      name: 'sidecar_guard_reports_written_total',
      help: 'Policy reports written by this replica, by operation (created, updated, deleted).',
      labelNames: ['operation'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'sidecar_guard_report_errors_total',
      help: 'Failed report operations by operation (list, created, updated, deleted, audit).',
      labelNames: ['operation'],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'sidecar_guard_report_leader',
      help: '1 while this replica holds the reports Lease and writes the reports, else 0.',
      registers: [registry],
    }),
    passes: new Counter({
      name: 'sidecar_guard_report_passes_total',
      help: 'Report passes completed by this replica (audit, build, write what changed).',
      registers: [registry],
    }),
  };
}
