import { type Command, Option } from 'commander';
import { auditCluster, hasDenials, type AuditReport } from '../audit/audit.js';
import { planFix, renderFix } from '../audit/fix.js';
import { renderReport, type OutputFormat } from '../audit/render.js';
import { findWorkloads } from '../audit/workloads.js';
import type { ClusterView } from '../cluster/cluster-view.js';
import { FileClusterView, readManifests } from '../cluster/file-cluster-view.js';
import { classifyObject } from '../cluster/objects.js';
import { ConfigStore } from '../config/config-store.js';
import type { Config } from '../config/types.js';
import type { RegisterCommand } from './commands.js';
import { PROCESS_IO, type CommandIo } from './command-io.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { positiveInteger } from './option-parsers.js';
import { withExamples } from './help.js';
import { readInputs, withManifestInputs } from './manifest-inputs.js';

export interface AuditOptions {
  filename: string[];
  namespace: string;
  clusterState?: string;
  config?: string;
  output: OutputFormat;
  fix?: boolean;
  kubeconfig?: string;
  pageSize: number;
}

const FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml'];

async function loadConfig(path: string | undefined): Promise<Config> {
  return (await ConfigStore.open(path)).current();
}

/** An offline audit over manifests: the input's Namespaces and Sidecars (plus --cluster-state) are the cluster. */
export async function offlineAudit(options: AuditOptions, io: CommandIo): Promise<{ report: AuditReport; view: ClusterView; config: Config }> {
  const config = await loadConfig(options.config);
  const objects = await readInputs(options.filename, io);
  const extra = options.clusterState ? await readManifests([options.clusterState]) : [];
  const view = FileClusterView.fromObjects([...extra, ...objects], options.namespace);
  const namespaces = [...objects, ...extra]
    .filter((o) => classifyObject(o) === 'Namespace')
    .map((o) => (o as { metadata: { name: string } }).metadata.name);
  const report = auditCluster({ workloads: findWorkloads(objects, options.namespace), view, namespaces, config, now: io.now() });
  return { report, view, config };
}

/** `sidecar-guard audit`: exit codes as in ./exit-codes.ts (0 clean, 1 violations, 2 usage, 3 cluster). */
export async function runAudit(options: AuditOptions, io: CommandIo): Promise<number> {
  let result: { report: AuditReport; view: ClusterView; config: Config };
  try {
    if (options.filename.length > 0) {
      result = await offlineAudit(options, io);
    } else {
      const { liveAudit } = await import('./live-audit.js');
      result = await liveAudit(options, io);
    }
  } catch (error) {
    io.stderr(`sidecar-guard audit: ${(error as Error).message}\n`);
    return exitCodeFor(error);
  }
  if (options.fix) io.stdout(renderFix(planFix(result.report, result.view, result.config), result.report));
  else io.stdout(renderReport(result.report, options.output, io.isTty && options.output === 'table'));
  return hasDenials(result.report) ? EXIT.VIOLATIONS : EXIT.CLEAN;
}

export const registerAuditCommand: RegisterCommand = (program: Command) => {
  const command = withManifestInputs(
    program
      .command('audit')
      .description('report what enforce would decide, for manifests (-f) or a live cluster; exit 1 when it would deny something'),
  )
    .addOption(new Option('-o, --output <format>', 'output format').choices(FORMATS).default('table'))
    .option('--fix', 'print the Sidecars that would make every scope finding pass (for kubectl apply -f -)')
    .option('--kubeconfig <file>', 'kubeconfig for a live audit (default: in-cluster, KUBECONFIG, ~/.kube/config)')
    .option('--page-size <n>', 'objects per LIST page in a live audit', positiveInteger, 500)
    .action(async (options: AuditOptions) => {
      process.exitCode = await runAudit(options, PROCESS_IO);
    });
  withExamples(command, [
    'sidecar-guard audit -f manifests/ --cluster-state cluster/',
    'helm template charts/app | sidecar-guard audit -f - -n shop -o json',
    'sidecar-guard audit -f manifests/ --fix | kubectl apply -f -',
    'sidecar-guard audit --kubeconfig ~/.kube/config',
  ]);
};
