/**
 * The whole end-to-end environment: build (if needed) → etcd + kube-apiserver → Istio CRDs →
 * sidecar-guard with the chart's RBAC, config and webhook configurations. Its state lives in
 * `.e2e/state.json` so that `npm run e2e:down` and the test files find what `e2e:up` started.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ROOT } from '../../charts/helm.js';
import { startControlPlane } from './control-plane.js';
import { buildIstioInjector, startIstioInjector } from './istio-injector.js';
import { isRunning, startDetached, stopProcess, type StartedProcess } from './processes.js';
import { pointAt, RELEASE_NAMESPACE, renderChart, startWebhook, toYamlStream, writeConfig } from './webhook.js';

export const E2E_DIR = join(ROOT, '.e2e');
const STATE_FILE = join(E2E_DIR, 'state.json');
export const CRDS = join(ROOT, 'test', 'e2e', 'crds', 'networking.istio.io.yaml');
/** The policy report CRDs the chart vendors (reports.installCRDs): both APIs, so either can be tested. */
export const REPORT_CRDS = ['wgpolicyk8s.io', 'openreports.io'].map((group) => join(ROOT, 'charts', 'sidecar-guard', 'files', 'crds', `${group}.yaml`));

export interface E2eState {
  kubernetesVersion: string;
  binDir: string;
  apiserverUrl: string;
  etcdUrl: string;
  kubeconfig: string;
  auditLog: string;
  caCertFile: string;
  caKeyFile: string;
  webhookUrl: string;
  webhookCaPem: string;
  configFile: string;
  /** Istio's injector in the admission chain (absent only while `up` is still starting). */
  istio?: { release: string; moduleVersion: string; url: string; caPem: string; nativeSidecars: boolean };
  processes: StartedProcess[];
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): CommandResult {
  const result = spawnSync(command, args, { encoding: 'utf8', input: options.input, env: options.env ?? process.env, maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function must(result: CommandResult, what: string): CommandResult {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}):\n${result.stderr || result.stdout}`);
  return result;
}

/** Builds the control plane if its cache has no binaries yet; returns the binary directory. */
export function buildControlPlane(): string {
  const build = spawnSync('bash', [join(ROOT, 'test', 'e2e', 'build-controlplane.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (build.status !== 0) throw new Error(`test/e2e/build-controlplane.sh failed (exit ${build.status}); see the messages above`);
  return build.stdout.trim().split('\n').pop() ?? '';
}

export function readState(): E2eState | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as E2eState;
}

export function isUp(state: E2eState | undefined): state is E2eState {
  return state !== undefined && state.processes.every((p) => isRunning(p.pid));
}

export function kubectlWith(state: Pick<E2eState, 'binDir' | 'kubeconfig'>, args: readonly string[], input?: string, kubeconfig = state.kubeconfig): CommandResult {
  return run(join(state.binDir, 'kubectl'), args, { input, env: { ...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '1' } });
}

export async function up(log: (line: string) => void = () => {}): Promise<E2eState> {
  const existing = readState();
  if (isUp(existing)) throw new Error(`an end-to-end environment is already running (${existing.apiserverUrl}); use it, or stop it with npm run e2e:down`);
  if (existing) await down();
  rmSync(E2E_DIR, { recursive: true, force: true });
  mkdirSync(join(E2E_DIR, 'logs'), { recursive: true });
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/cli/main.js is missing: run npm run build first');

  const binDir = buildControlPlane();
  const istioBuild = buildIstioInjector();
  const nativeSidecars = process.env.E2E_NATIVE_SIDECARS === 'true';
  const kubernetesVersion = basename(binDir).replace(/^k8s-/, '').replace(/-etcd-.*$/, '');
  log(`control plane binaries: ${binDir}`);
  const controlPlane = await startControlPlane(E2E_DIR, binDir);
  const processes = [...controlPlane.processes];
  const partial = { binDir, kubeconfig: controlPlane.kubeconfig };
  try {
    writeState({ kubernetesVersion, binDir, ...controlPlane, webhookUrl: '', webhookCaPem: '', configFile: '', processes });
    log(`kube-apiserver ${kubernetesVersion} at ${controlPlane.apiserverUrl}`);
    must(kubectlWith(partial, ['apply', '--server-side', '-f', CRDS]), 'installing the Istio CRDs');
    must(kubectlWith(partial, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/sidecars.networking.istio.io', 'crd/serviceentries.networking.istio.io']), 'waiting for the Istio CRDs');
    for (const file of REPORT_CRDS) must(kubectlWith(partial, ['apply', '--server-side', '-f', file]), `installing the report CRDs (${file})`);
    must(
      kubectlWith(partial, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/policyreports.wgpolicyk8s.io', 'crd/clusterpolicyreports.wgpolicyk8s.io', 'crd/reports.openreports.io', 'crd/clusterreports.openreports.io']),
      'waiting for the report CRDs',
    );

    const chart = renderChart(kubernetesVersion);
    must(kubectlWith(partial, ['create', 'namespace', RELEASE_NAMESPACE]), 'creating the release namespace');
    must(kubectlWith(partial, ['apply', '-f', '-'], toYamlStream(chart.rbac)), "applying the chart's RBAC");
    const configFile = writeConfig(E2E_DIR, 'config.yaml', chart.config);
    const webhook = await startWebhook({
      dir: E2E_DIR,
      name: 'sidecar-guard',
      apiserverUrl: controlPlane.apiserverUrl,
      apiserverCaFile: controlPlane.caCertFile,
      apiserverCaKeyFile: controlPlane.caKeyFile,
      configFile,
    });
    processes.push(webhook.process);
    must(kubectlWith(partial, ['apply', '-f', '-'], toYamlStream([pointAt(chart.mutating, webhook.url, webhook.caPem), pointAt(chart.validating, webhook.url, webhook.caPem)])), "applying the chart's webhook configurations");
    log(`sidecar-guard at ${webhook.url}, in the admission path`);
    const injector = await startIstioInjector(E2E_DIR, istioBuild, { nativeSidecars });
    processes.push(injector.process);
    must(kubectlWith(partial, ['apply', '-f', '-'], toYamlStream([injector.mutating])), "applying Istio's istio-sidecar-injector webhook configuration");
    const istio = { release: istioBuild.release, moduleVersion: istioBuild.moduleVersion, url: injector.url, caPem: injector.caPem, nativeSidecars };
    const state: E2eState = { kubernetesVersion, binDir, ...controlPlane, webhookUrl: webhook.url, webhookCaPem: webhook.caPem, configFile, istio, processes };
    writeState(state);
    log(`Istio ${istio.release}'s injector at ${injector.url} (${nativeSidecars ? 'native sidecars' : 'classic sidecars'}), in the admission path`);
    return state;
  } catch (error) {
    await Promise.all(processes.map((p) => stopProcess(p.pid)));
    throw error;
  }
}

/** Stops one process of the environment and starts it again with the same command line. */
export async function restartProcess(name: string, options: { between?: () => Promise<void>; args?: (current: readonly string[]) => string[] } = {}): Promise<StartedProcess> {
  const state = readState();
  const found = state?.processes.find((p) => p.name === name);
  if (!state || !found) throw new Error(`no process named ${name} in ${STATE_FILE}`);
  await stopProcess(found.pid);
  await options.between?.();
  const started = startDetached(found.name, found.command, options.args ? options.args(found.args) : found.args, found.log);
  writeState({ ...state, processes: state.processes.map((p) => (p.name === name ? started : p)) });
  return started;
}

function writeState(state: E2eState): void {
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
}

/** Stops every process `up` started (webhook first, etcd last) and keeps the logs. */
export async function down(): Promise<StartedProcess[]> {
  const state = readState();
  if (!state) return [];
  const stopped: StartedProcess[] = [];
  for (const p of [...state.processes].reverse()) {
    if (isRunning(p.pid)) stopped.push(p);
    await stopProcess(p.pid);
  }
  rmSync(STATE_FILE, { force: true });
  return stopped;
}
