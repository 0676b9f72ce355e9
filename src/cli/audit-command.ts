import type { Command } from 'commander';
import { auditCluster, hasDenials, type AuditReport } from '../audit/audit.js';
import { planFix, renderFix } from '../audit/fix.js';
import { renderReport, type OutputFormat } from '../audit/render.js';
import { findWorkloads } from '../audit/workloads.js';
import type { ClusterView } from '../cluster/cluster-view.js';
import { FileClusterView, parseManifests, readManifests } from '../cluster/file-cluster-view.js';
import { classifyObject } from '../cluster/objects.js';
import { ConfigStore } from '../config/config-store.js';
import type { Config } from '../config/types.js';
import type { RegisterCommand } from './commands.js';

export interface AuditOptions {
  filename: string[];
  namespace: string;
  clusterState?: string;
  config?: string;
  output: string;
  fix?: boolean;
  kubeconfig?: string;
  pageSize?: string;
}

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  isTty: boolean;
  now: () => Date;
}

export const EXIT_CLEAN = 0;
export const EXIT_DENIALS = 1;
export const EXIT_USAGE = 2;

const FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml'];

async function readStdinText(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const PROCESS_IO: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: readStdinText,
  isTty: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
  now: () => new Date(),
};

/** Reads `-f` inputs: files, directories and `-` (stdin), in order. */
export async function readInputs(paths: readonly string[], io: CommandIo): Promise<unknown[]> {
  const objects: unknown[] = [];
  for (const path of paths) {
    if (path === '-') objects.push(...parseManifests(await io.readStdin(), '<stdin>'));
    else objects.push(...(await readManifests([path])));
  }
  return objects;
}

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

/** `sidecar-guard audit`: exit 0 when clean, 1 when enforce would deny something, 2 on usage or input errors. */
export async function runAudit(options: AuditOptions, io: CommandIo): Promise<number> {
  const format = options.output as OutputFormat;
  if (!FORMATS.includes(format)) {
    io.stderr(`sidecar-guard audit: -o must be one of ${FORMATS.join(', ')}\n`);
    return EXIT_USAGE;
  }
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
    return EXIT_USAGE;
  }
  if (options.fix) io.stdout(renderFix(planFix(result.report, result.view, result.config), result.report));
  else io.stdout(renderReport(result.report, format, io.isTty && format === 'table'));
  return hasDenials(result.report) ? EXIT_DENIALS : EXIT_CLEAN;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The manifest-input options `audit` and `explain` share, named as kubectl names them. */
export function withManifestInputs(command: Command): Command {
  return command
    .option('-f, --filename <path>', 'file, directory or - (stdin); repeatable', collect, [])
    .option('-n, --namespace <name>', 'namespace for documents without one', 'default')
    .option('--cluster-state <dir>', 'more Namespaces and Sidecars to take as the cluster')
    .option('--config <file>', 'configuration YAML (built-in defaults when absent)');
}

export const registerAuditCommand: RegisterCommand = (program: Command) => {
  withManifestInputs(
    program
      .command('audit')
      .description('report what enforce would decide, for manifests (-f) or a live cluster; exit 1 when it would deny something'),
  )
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .option('--fix', 'print the Sidecars that would make every scope finding pass (for kubectl apply -f -)')
    .option('--kubeconfig <file>', 'kubeconfig for a live audit (default: in-cluster, KUBECONFIG, ~/.kube/config)')
    .option('--page-size <n>', 'objects per LIST page in a live audit', '500')
    .action(async (options: AuditOptions) => {
      process.exitCode = await runAudit(options, PROCESS_IO);
    });
};
