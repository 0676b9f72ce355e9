import { type Command, Option } from 'commander';
import { toManifestYaml } from '../kube/manifest-yaml.js';
import { reviewInput, type ReviewResult } from '../admission/review.js';
import { readClusterFacts } from '../cluster/facts.js';
import { FileClusterView, readManifests } from '../cluster/file-cluster-view.js';
import type { ConfigStore } from '../config/config-store.js';
import { podTemplatePath } from '../policy/workload-view.js';
import { createInputFor, findWorkloads, podFromTemplate, type WorkloadObject } from '../audit/workloads.js';
import { loadCommandConfig } from './command-config.js';
import { PROCESS_IO, type CommandIo } from './command-io.js';
import { EXIT, exitCodeFor, usageError } from './exit-codes.js';
import { withExamples } from './help.js';
import { readInputs, withManifestInputs } from './manifest-inputs.js';
import type { RegisterCommand } from './commands.js';
import { isRecord, toSidecarFacts } from '../cluster/objects.js';

export interface ExplainOptions {
  filename: string[];
  namespace: string;
  clusterState?: string;
  config?: string;
  output: ExplainFormat;
}

const FORMATS = ['text', 'json', 'yaml'] as const;
export type ExplainFormat = (typeof FORMATS)[number];

export interface WebhookExplanation {
  webhook: 'validate' | 'mutate';
  subject: string;
  allowed: boolean;
  verdict: string;
  reason: string;
  mode: string;
  violations: { code: string; message: string }[];
  profile?: string;
  profileReason?: string;
  patch: unknown[];
  after?: unknown;
  warnings: string[];
  auditAnnotations: Record<string, string>;
}

function explainResult(result: ReviewResult, subject: string): WebhookExplanation {
  const { evaluation, outcome, patch } = result;
  return {
    webhook: evaluation.webhook,
    subject,
    allowed: outcome.allowed,
    verdict: outcome.verdict,
    reason: outcome.code,
    mode: evaluation.mode,
    violations: evaluation.violations.map((v) => ({ code: v.code, message: v.message })),
    ...(evaluation.profile ? { profile: evaluation.profile } : {}),
    ...(evaluation.profileReason ? { profileReason: evaluation.profileReason } : {}),
    patch: [...patch],
    ...(patch.length > 0 ? { after: applyToCopy(result.input.object, patch) } : {}),
    warnings: [...outcome.warnings],
    auditAnnotations: { ...outcome.auditAnnotations },
  };
}

/** Applies our own add/replace-only patch to a copy, to show the object after it. */
function applyToCopy(object: unknown, patch: readonly { path: string; value: unknown }[]): unknown {
  const copy = structuredClone(object);
  for (const op of patch) {
    const segments = op.path.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = segments.pop() ?? '';
    let node: unknown = copy;
    for (const segment of segments) node = Array.isArray(node) ? node[Number(segment)] : isRecord(node) ? node[segment] : undefined;
    if (isRecord(node)) node[last] = op.value;
  }
  return copy;
}

/** Both webhooks' answers for one object, as the apiserver would get them on CREATE. */
export function explainWorkload(workload: WorkloadObject, view: FileClusterView, deps: { config: ReturnType<ConfigStore['current']>; now: Date }): WebhookExplanation[] {
  const review = { config: deps.config, now: deps.now, factsFor: (ns: string) => readClusterFacts(view, ns, deps.config) };
  const subject = `${workload.kind}/${workload.namespace}/${workload.name}`;
  const explanations = [explainResult(reviewInput('validate', createInputFor(workload), review), subject)];
  if (workload.kind === 'Pod') {
    explanations.push(explainResult(reviewInput('mutate', createInputFor(workload), review), subject));
  } else if (workload.kind !== 'Sidecar') {
    let template: unknown = workload.object;
    for (const segment of podTemplatePath(workload) ?? []) template = isRecord(template) ? template[segment] : undefined;
    const pod = podFromTemplate(workload, template as { metadata?: unknown; spec?: unknown });
    explanations.push(explainResult(reviewInput('mutate', createInputFor(pod), review), `Pod from ${subject}`));
  }
  return explanations;
}

function render(explanations: WebhookExplanation[]): string {
  return explanations
    .map((e) => {
      const lines = [
        `${e.subject}  [${e.webhook}]`,
        `  decision: ${e.allowed ? 'allowed' : 'DENIED'} (${e.verdict}, reason ${e.reason}, mode ${e.mode})`,
        ...e.violations.map((v) => `  violation ${v.code}: ${v.message.split('\n')[0]}`),
        ...(e.profile ? [`  profile: ${e.profileReason ?? e.profile}`] : []),
        ...(e.auditAnnotations['predicted-memory'] ? [`  predicted memory: ${e.auditAnnotations['predicted-memory']}`] : []),
        ...e.warnings.map((w) => `  warning: ${w}`),
        `  audit annotations: ${JSON.stringify(e.auditAnnotations)}`,
        ...(e.patch.length ? ['  patch:', ...JSON.stringify(e.patch, null, 2).split('\n').map((l) => `    ${l}`)] : ['  patch: none']),
        ...(e.after ? ['  after:', ...toManifestYaml(e.after).trimEnd().split('\n').map((l) => `    ${l}`)] : []),
      ];
      return lines.join('\n');
    })
    .join('\n\n') + '\n';
}

/** `sidecar-guard explain -f FILE`: every webhook's decision for each object in the file. */
export async function runExplain(options: ExplainOptions, io: CommandIo): Promise<number> {
  try {
    if (options.filename.length === 0) throw usageError('-f FILE is required: the manifests to explain (- for stdin)');
    const config = await loadCommandConfig(options.config, io);
    const objects = await readInputs(options.filename, io);
    const extra = options.clusterState ? await readManifests([options.clusterState]) : [];
    const view = FileClusterView.fromObjects([...extra, ...objects], options.namespace);
    const workloads = findWorkloads(objects, options.namespace);
    const sidecars = objects.filter((o) => toSidecarFacts(o, options.namespace) !== undefined && (o as { kind?: unknown }).kind === 'Sidecar');
    const subjects: WorkloadObject[] = [
      ...workloads,
      ...sidecars.map((o) => {
        const facts = toSidecarFacts(o, options.namespace)!;
        const [group = '', version = ''] = String((o as { apiVersion: string }).apiVersion).split('/');
        return { group, version, kind: 'Sidecar', namespace: facts.namespace, name: facts.name, object: o as Record<string, unknown> };
      }),
    ];
    if (subjects.length === 0) {
      io.stderr(`sidecar-guard explain: no Pod, workload controller or Sidecar in ${options.filename.join(', ')}: nothing to explain\n`);
      return EXIT.INCOMPLETE;
    }
    // A Sidecar explained against a view that already holds it would clash with itself.
    const explanations = subjects.flatMap((s) =>
      explainWorkload(s, s.kind === 'Sidecar' ? FileClusterView.fromObjects(extra.concat(objects.filter((o) => o !== s.object)), options.namespace) : view, { config, now: io.now() }),
    );
    io.stdout(options.output === 'json' ? `${JSON.stringify(explanations, null, 2)}\n` : options.output === 'yaml' ? toManifestYaml(explanations) : render(explanations));
    return explanations.some((e) => !e.allowed) ? EXIT.VIOLATIONS : EXIT.CLEAN;
  } catch (error) {
    io.stderr(`sidecar-guard explain: ${(error as Error).message}\n`);
    return exitCodeFor(error);
  }
}

export const registerExplainCommand: RegisterCommand = (program: Command, io = PROCESS_IO) => {
  const command = withManifestInputs(
    program.command('explain').description('show each webhook decision, the profile and why, the exact JSON patch and the object after it; exit 1 when a webhook would deny'),
  )
    .addOption(new Option('-o, --output <format>', 'output format').choices(FORMATS).default('text'))
    .action(async (options: ExplainOptions) => {
      io.setExitCode(await runExplain(options, io));
    });
  withExamples(command, [
    'sidecar-guard explain -f pod.yaml --cluster-state examples/cluster',
    'kubectl get deploy web -o yaml | sidecar-guard explain -f - -o json',
  ]);
};
