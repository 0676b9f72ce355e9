/**
 * `npm run bench:e2e`: pod creation through a real kube-apiserver (the end-to-end control plane,
 * started here in .e2e-bench/ with MutatingAdmissionPolicy enabled), at 10, 50 and 200 concurrent
 * clients, in three set-ups measured in the same run, interleaved per level:
 *   baseline  no admission webhooks or policies;
 *   webhook   sidecar-guard's validating and mutating configurations as the chart renders them;
 *   policy    the in-process equivalent: a MutatingAdmissionPolicy setting the proxy annotations
 *             from a parameter ConfigMap and a ValidatingAdmissionPolicy requiring the profile.
 * Per cell it also reads each process's CPU time (kube-apiserver, etcd, kube-controller-manager,
 * sidecar-guard, this load generator) before and after the timed load: CPU milliseconds per pod.
 * Before the first round, BENCH_E2E_WEBHOOK_WARMUP pods (1000) go through the webhook set-up untimed,
 * as a webhook in a cluster has served many calls since it started (its CPU per pod cold is printed);
 * then every process's CPU with no load is read for 5 s (background that CPU per pod includes).
 * Knobs (env): BENCH_E2E_PODS (pods per set-up and level, 400), BENCH_E2E_LEVELS (10,50,200),
 * BENCH_E2E_SETUPS (baseline,webhook,policy; diagnostics: webhook-lean, only the two chart entries
 * pods reach, without matchConditions; webhook-ecdsa, the chart's entries on a second sidecar-guard
 * serving an ECDSA P-256 key, as the chart's cert-manager Certificate asks for),
 * BENCH_E2E_PPROF (seconds: a kube-apiserver CPU profile from the start of each timed load, into
 * .e2e-bench/pprof/; `go tool pprof -top` reads it),
 * BENCH_E2E_WEBHOOK_NODE_FLAGS (node flags for sidecar-guard, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p":
 * the profile is written when it stops; `bench/profile-top.ts` reads it).
 * Numbers are printed, never asserted.
 */
import { request, Agent } from 'node:https';
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { rmSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, type K8sObject } from '../test/charts/helm.js';
import { buildControlPlane, CRDS, kubectlWith, type CommandResult } from '../test/e2e/harness/environment.js';
import { startControlPlane } from '../test/e2e/harness/control-plane.js';
import { stopProcess, type StartedProcess } from '../test/e2e/harness/processes.js';
import { pointAt, RELEASE, RELEASE_NAMESPACE, renderChart, startWebhook, toYamlStream, writeConfig, type WebhookProcess } from '../test/e2e/harness/webhook.js';
import { parsePrometheusText } from '../src/recommend/prometheus-text.js';
import { quantile } from './stats.js';
import { processCpuSeconds } from './child.js';

const PODS = Number(process.env.BENCH_E2E_PODS ?? 400);
const LEVELS = (process.env.BENCH_E2E_LEVELS ?? '10,50,200').split(',').map(Number);
const WARMUP = 40;
/** Pods through the webhook set-up before the first round, untimed: V8 compiles the hot path in the first few thousand calls. */
const WEBHOOK_WARMUP = Number(process.env.BENCH_E2E_WEBHOOK_WARMUP ?? 1000);
const IDLE_SECONDS = 5;
const DIR = join(ROOT, '.e2e-bench');
const KNOWN_SETUPS = ['baseline', 'webhook', 'webhook-lean', 'webhook-ecdsa', 'policy'] as const;
type Setup = (typeof KNOWN_SETUPS)[number];
const SETUPS = (process.env.BENCH_E2E_SETUPS ?? 'baseline,webhook,policy').split(',').map((name) => {
  if (!(KNOWN_SETUPS as readonly string[]).includes(name)) throw new Error(`BENCH_E2E_SETUPS: unknown set-up "${name}"; known: ${KNOWN_SETUPS.join(', ')}`);
  return name as Setup;
});
const PPROF_SECONDS = Number(process.env.BENCH_E2E_PPROF ?? 0);

interface Client { url: string; agent: Agent }
interface Result { setup: Setup; level: number; p50: number; p99: number; podsPerSecond: number; errors: number; calls?: Calls; cpuMsPerPod: Record<string, number> }
/** What one cell cost the webhook, from both sides' /metrics: calls and connections per pod, latency the API server saw. */
interface Calls { perPod: number; connectionsPerCall: number; apiserverMs: Record<string, number>; webhookCallsByName: Record<string, number> }

function must(result: CommandResult, what: string): void {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}): ${result.stderr || result.stdout}`);
}

function adminClient(kubeconfig: string, apiserverUrl: string, sockets: number): Client {
  const config = parse(readFileSync(kubeconfig, 'utf8')) as {
    clusters: { cluster: { 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64');
  const user = config.users[0]?.user;
  return {
    url: apiserverUrl,
    agent: new Agent({ keepAlive: true, maxSockets: sockets, ca: b64(config.clusters[0]?.cluster['certificate-authority-data']), cert: b64(user?.['client-certificate-data']), key: b64(user?.['client-key-data']) }),
  };
}

function createPod(client: Client, namespace: string, name: string): Promise<number> {
  const body = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'bench' } },
    spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] },
  });
  return new Promise((resolve, reject) => {
    const req = request(`${client.url}/api/v1/namespaces/${namespace}/pods`, { method: 'POST', agent: client.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** GET over HTTPS, the body. */
function getBody(url: string, options: { agent?: Agent; ca?: string }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', ...(options.agent ? { agent: options.agent } : {}), ...(options.ca ? { ca: options.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`GET ${url}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

const getText = async (url: string, options: { agent?: Agent; ca?: string }) => (await getBody(url, options)).toString('utf8');

/** CPU seconds each named process has used so far. */
function cpuTimes(pids: ReadonlyMap<string, number>): Map<string, number> {
  return new Map([...pids].map(([name, pid]) => [name, processCpuSeconds(pid)]));
}

/** CPU milliseconds each process used between two readings, divided by `per` (pods or seconds). */
function cpuMsPer(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, per: number): Record<string, number> {
  return Object.fromEntries([...after].map(([name, seconds]) => [name, (1000 * (seconds - (before.get(name) ?? 0))) / per]));
}

/**
 * An ECDSA P-256 CA and serving certificate from openssl in `certDir` (sidecar-guard serves an
 * existing pair as it is; it generates RSA-2048 itself, node-forge signing only with RSA).
 */
function writeEcdsaCertDir(certDir: string): void {
  mkdirSync(certDir, { recursive: true });
  writeFileSync(join(certDir, 'serving.ext'), `subjectAltName=DNS:${RELEASE}.${RELEASE_NAMESPACE}.svc,DNS:localhost,IP:127.0.0.1\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
  const p256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  for (const args of [
    ['req', '-x509', ...p256, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=bench-ecdsa-ca', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'],
    ['req', '-new', ...p256, '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', `/CN=${RELEASE}.${RELEASE_NAMESPACE}.svc`],
    ['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'tls.crt', '-extfile', 'serving.ext'],
  ]) {
    const result = spawnSync('openssl', args, { cwd: certDir, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${result.stderr || result.error?.message}`);
  }
}

const formatCpu = (ms: Record<string, number>) => Object.entries(ms).map(([name, value]) => `${name} ${value.toFixed(2)}`).join(', ');

/** Set-up webhook-lean: only the entries pods in the bench namespaces reach, without matchConditions. */
function leanEntries(configuration: K8sObject, keep: string): K8sObject {
  const copy = structuredClone(configuration) as K8sObject & { webhooks: { name: string; matchConditions?: unknown }[] };
  copy.webhooks = copy.webhooks.filter((w) => w.name === keep);
  if (copy.webhooks.length !== 1) throw new Error(`the chart has no webhook entry ${keep}`);
  delete copy.webhooks[0]!.matchConditions;
  return copy;
}

/** Sums of Prometheus samples of one metric by the value of one label (or '' for none). */
function samples(text: string, metric: string, label = ''): Map<string, number> {
  const out = new Map<string, number>();
  for (const sample of parsePrometheusText(text)) {
    if (sample.name !== metric) continue;
    const key = label === '' ? '' : (sample.labels[label] ?? '');
    out.set(key, (out.get(key) ?? 0) + sample.value);
  }
  return out;
}

interface Snapshot { decisions: number; connections: number; sum: Map<string, number>; count: Map<string, number> }

async function snapshot(apiserver: Client, webhookUrl: string, ca: string): Promise<Snapshot> {
  const [api, hook] = await Promise.all([getText(`${apiserver.url}/metrics`, { agent: apiserver.agent }), getText(`${webhookUrl}/metrics`, { ca })]);
  return {
    decisions: samples(hook, 'sidecar_guard_decisions_total').get('') ?? 0,
    connections: samples(hook, 'sidecar_guard_tls_connections_total').get('') ?? 0,
    sum: samples(api, 'apiserver_admission_webhook_admission_duration_seconds_sum', 'name'),
    count: samples(api, 'apiserver_admission_webhook_admission_duration_seconds_count', 'name'),
  };
}

function callsBetween(before: Snapshot, after: Snapshot, pods: number): Calls {
  const calls = after.decisions - before.decisions;
  const apiserverMs: Record<string, number> = {};
  const webhookCallsByName: Record<string, number> = {};
  for (const [name, count] of after.count) {
    const n = count - (before.count.get(name) ?? 0);
    if (n <= 0) continue;
    webhookCallsByName[name] = n / pods;
    apiserverMs[name] = (1000 * ((after.sum.get(name) ?? 0) - (before.sum.get(name) ?? 0))) / n;
  }
  return { perPod: calls / pods, connectionsPerCall: calls > 0 ? (after.connections - before.connections) / calls : 0, apiserverMs, webhookCallsByName };
}

/** `count` pod creations by `level` concurrent clients; latency per request in ms. */
async function load(client: Client, namespace: string, level: number, count: number, prefix: string): Promise<{ latencies: number[]; seconds: number; errors: number }> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: level }, async () => {
    for (let i = next++; i < count; i = next++) {
      const t0 = process.hrtime.bigint();
      const status = await createPod(client, namespace, `${prefix}-${i}`);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (status !== 201) errors++;
    }
  }));
  return { latencies, seconds: Number(process.hrtime.bigint() - started) / 1e9, errors };
}

const PROFILE_PARAMS = { cpu: '100m', cpuLimit: '1000m', memory: '128Mi', memoryLimit: '256Mi', profile: 'medium' };

/** Set-up 3: the closest in-process policies (Kubernetes 1.34: MutatingAdmissionPolicy is v1beta1). */
function admissionPolicies(): object[] {
  const match = { namespaceSelector: { matchLabels: { 'istio-injection': 'enabled' } } };
  const rules = { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] };
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'proxy-profile', namespace: RELEASE_NAMESPACE }, data: PROFILE_PARAMS },
    {
      apiVersion: 'admissionregistration.k8s.io/v1beta1',
      kind: 'MutatingAdmissionPolicy',
      metadata: { name: 'bench-proxy-sizing' },
      spec: {
        paramKind: { apiVersion: 'v1', kind: 'ConfigMap' },
        matchConstraints: rules,
        failurePolicy: 'Fail',
        reinvocationPolicy: 'Never',
        mutations: [{
          patchType: 'ApplyConfiguration',
          applyConfiguration: {
            expression: 'Object{ metadata: Object.metadata{ annotations: {"sidecar.istio.io/proxyCPU": params.data.cpu, "sidecar.istio.io/proxyCPULimit": params.data.cpuLimit, "sidecar.istio.io/proxyMemory": params.data.memory, "sidecar.istio.io/proxyMemoryLimit": params.data.memoryLimit, "sidecar-guard.io/applied-profile": params.data.profile} } }',
          },
        }],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1beta1',
      kind: 'MutatingAdmissionPolicyBinding',
      metadata: { name: 'bench-proxy-sizing' },
      spec: { policyName: 'bench-proxy-sizing', paramRef: { name: 'proxy-profile', namespace: RELEASE_NAMESPACE, parameterNotFoundAction: 'Deny' }, matchResources: match },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: 'bench-require-profile' },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: rules,
        validations: [{ expression: "has(object.metadata.annotations) && 'sidecar-guard.io/applied-profile' in object.metadata.annotations", message: 'no proxy profile' }],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: 'bench-require-profile' },
      spec: { policyName: 'bench-require-profile', validationActions: ['Deny'], matchResources: match },
    },
  ];
}

async function main(): Promise<void> {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(join(DIR, 'logs'), { recursive: true });
  const binDir = buildControlPlane();
  const kubernetesVersion = basename(binDir).replace(/^k8s-/, '').replace(/-etcd-.*$/, '');
  const processes: StartedProcess[] = [];
  try {
    const controlPlane = await startControlPlane(DIR, binDir, {
      extraApiserverArgs: ['--feature-gates=MutatingAdmissionPolicy=true', '--runtime-config=admissionregistration.k8s.io/v1beta1=true'],
    });
    processes.push(...controlPlane.processes);
    const kubectl = (args: string[], input?: string) => kubectlWith({ binDir, kubeconfig: controlPlane.kubeconfig }, args, input);
    must(kubectl(['apply', '--server-side', '-f', CRDS]), 'installing the Istio CRDs');
    must(kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/sidecars.networking.istio.io']), 'waiting for the CRDs');
    const chart = renderChart(kubernetesVersion);
    must(kubectl(['create', 'namespace', RELEASE_NAMESPACE]), 'creating the release namespace');
    must(kubectl(['apply', '-f', '-'], toYamlStream(chart.rbac)), "applying the chart's RBAC");
    const configFile = writeConfig(DIR, 'config.yaml', chart.config);
    const start = (name: string) => startWebhook({
      dir: DIR, name, apiserverUrl: controlPlane.apiserverUrl, apiserverCaFile: controlPlane.caCertFile, apiserverCaKeyFile: controlPlane.caKeyFile, configFile,
      nodeArgs: (process.env.BENCH_E2E_WEBHOOK_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== ''),
    });
    const webhook = await start('sidecar-guard');
    processes.push(webhook.process);
    let ecdsaWebhook: WebhookProcess | undefined;
    if (SETUPS.includes('webhook-ecdsa')) {
      writeEcdsaCertDir(join(DIR, 'sidecar-guard-ecdsa-certs'));
      ecdsaWebhook = await start('sidecar-guard-ecdsa');
      processes.push(ecdsaWebhook.process);
    }
    /** The webhook process a set-up calls. */
    const webhookFor = (setup: Setup) => (setup === 'webhook-ecdsa' ? ecdsaWebhook : setup.startsWith('webhook') ? webhook : undefined);
    const chartEntries = (hook: WebhookProcess) => toYamlStream([pointAt(chart.mutating, hook.url, hook.caPem), pointAt(chart.validating, hook.url, hook.caPem)]);
    const configurations: Partial<Record<Setup, string>> = {
      webhook: chartEntries(webhook),
      'webhook-lean': toYamlStream([
        pointAt(leanEntries(chart.mutating, 'injection.pods.mutate.sidecar-guard.io'), webhook.url, webhook.caPem),
        pointAt(leanEntries(chart.validating, 'injection.pods.validate.sidecar-guard.io'), webhook.url, webhook.caPem),
      ]),
      ...(ecdsaWebhook ? { 'webhook-ecdsa': chartEntries(ecdsaWebhook) } : {}),
    };
    const pids = new Map<string, number>([...processes.map((p): [string, number] => [p.name, p.pid]), ['bench', process.pid]]);
    if (PPROF_SECONDS > 0) mkdirSync(join(DIR, 'pprof'), { recursive: true });
    const policies = toYamlStream(admissionPolicies());

    const enter = async (setup: Setup) => {
      kubectl(['delete', 'mutatingwebhookconfigurations,validatingwebhookconfigurations', '-l', 'app.kubernetes.io/name=sidecar-guard', '--ignore-not-found']);
      kubectl(['delete', 'mutatingadmissionpolicybindings,mutatingadmissionpolicies,validatingadmissionpolicybindings,validatingadmissionpolicies', '--all', '--ignore-not-found']);
      const configuration = configurations[setup];
      if (configuration !== undefined) must(kubectl(['apply', '-f', '-'], configuration), `applying sidecar-guard's webhook configurations (${setup})`);
      if (setup === 'policy') must(kubectl(['apply', '-f', '-'], policies), 'applying the admission policies');
      // The API server picks configuration changes up from its own informers.
      await new Promise((resolve) => setTimeout(resolve, 3000));
    };

    /** A mesh namespace with its Sidecar and default ServiceAccount. */
    const meshNamespace = async (ns: string) => {
      must(kubectl(['apply', '-f', '-'], toYamlStream([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'istio-injection': 'enabled' } } }, { apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace: ns }, spec: { egress: [{ hosts: ['./*', 'istio-system/*'] }] } }])), `creating ${ns}`);
      for (let i = 0; i < 100 && kubectl(['get', 'serviceaccount', 'default', '-n', ns]).code !== 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    };

    const coldCpu = new Map<Setup, Record<string, number>>();
    const warmUps = WEBHOOK_WARMUP > 0 ? (['webhook', 'webhook-ecdsa'] as const).filter((setup) => SETUPS.some((s) => webhookFor(s) !== undefined && webhookFor(s) === webhookFor(setup))) : [];
    for (const setup of warmUps) {
      await meshNamespace(`bench-warmup-${setup}`);
      await enter(setup);
      const client = adminClient(controlPlane.kubeconfig, controlPlane.apiserverUrl, 10);
      const cpuBefore = cpuTimes(pids);
      const warm = await load(client, `bench-warmup-${setup}`, 10, WEBHOOK_WARMUP, 'warm');
      coldCpu.set(setup, cpuMsPer(cpuBefore, cpuTimes(pids), WEBHOOK_WARMUP));
      client.agent.destroy();
      if (warm.errors > 0) throw new Error(`${setup}: ${warm.errors} of ${WEBHOOK_WARMUP} warm-up pods were refused: the set-up does not admit pods`);
      process.stderr.write(`${setup} warm-up: ${WEBHOOK_WARMUP} pods at 10 clients, ms CPU per pod: ${formatCpu(coldCpu.get(setup) ?? {})}\n`);
    }
    await enter('baseline');
    const idleBefore = cpuTimes(pids);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const idleCpu = cpuMsPer(idleBefore, cpuTimes(pids), IDLE_SECONDS);

    const results: Result[] = [];
    let round = 0;
    for (const level of LEVELS) {
      for (const setup of SETUPS) {
        round++;
        const ns = `bench-${round}-${setup}-${level}`;
        await meshNamespace(ns);
        await enter(setup);
        const client = adminClient(controlPlane.kubeconfig, controlPlane.apiserverUrl, level);
        const warm = await load(client, ns, Math.min(level, 10), WARMUP, 'warm');
        if (warm.errors > 0) throw new Error(`${setup}: ${warm.errors} of ${WARMUP} warm-up pods were refused: the set-up does not admit pods`);
        const hook = webhookFor(setup);
        const before = hook ? await snapshot(client, hook.url, hook.caPem) : undefined;
        const profile = PPROF_SECONDS > 0 ? getBody(`${controlPlane.apiserverUrl}/debug/pprof/profile?seconds=${PPROF_SECONDS}`, { agent: client.agent }) : undefined;
        const cpuBefore = cpuTimes(pids);
        const run = await load(client, ns, level, PODS, 'pod');
        const cpuAfter = cpuTimes(pids);
        const cpuMsPerPod = cpuMsPer(cpuBefore, cpuAfter, PODS);
        const calls = hook && before ? callsBetween(before, await snapshot(client, hook.url, hook.caPem), PODS) : undefined;
        if (profile) writeFileSync(join(DIR, 'pprof', `kube-apiserver-${setup}-${level}.pb.gz`), await profile);
        client.agent.destroy();
        const sorted = [...run.latencies].sort((a, b) => a - b);
        results.push({ setup, level, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), podsPerSecond: PODS / run.seconds, errors: run.errors, ...(calls ? { calls } : {}), cpuMsPerPod });
        process.stderr.write(`round ${round}: ${setup} at ${level} clients: p50 ${quantile(sorted, 0.5).toFixed(1)} ms, p99 ${quantile(sorted, 0.99).toFixed(1)} ms, ${(PODS / run.seconds).toFixed(0)} pods/s\n`);
        if (calls) {
          const seen = Object.entries(calls.apiserverMs).map(([name, ms]) => `${name} ${(calls.webhookCallsByName[name] ?? 0).toFixed(2)}/pod ${ms.toFixed(1)} ms`).join(', ');
          process.stderr.write(`  webhook calls per pod ${calls.perPod.toFixed(2)}, new TLS connections per call ${calls.connectionsPerCall.toFixed(3)}; as the API server saw them: ${seen}\n`);
        }
      }
    }
    await enter('baseline');

    console.log(`\nPod creation through kube-apiserver ${kubernetesVersion} (loopback, ${PODS} pods per cell after ${WARMUP} warm-up), ${cpus().length} x ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
    console.log('| clients | set-up | p50 ms | p99 ms | pods/s | p99 / baseline | p99 / policy | errors |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of results) {
      const base = results.find((x) => x.level === r.level && x.setup === 'baseline');
      const policy = results.find((x) => x.level === r.level && x.setup === 'policy');
      const ratio = (x: Result | undefined) => (x ? (r.p99 / x.p99).toFixed(2) : '');
      console.log(`| ${r.level} | ${r.setup} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.podsPerSecond.toFixed(0)} | ${ratio(base)} | ${ratio(policy)} | ${r.errors} |`);
    }
    console.log('\n| clients | set-up | webhook calls per pod | new TLS connections per call | mean call latency the API server saw, per webhook entry |');
    console.log('|---|---|---|---|---|');
    for (const r of results) {
      if (!r.calls) continue;
      const seen = Object.entries(r.calls.apiserverMs).map(([name, ms]) => `${name}: ${ms.toFixed(1)} ms`).join('; ');
      console.log(`| ${r.level} | ${r.setup} | ${r.calls.perPod.toFixed(2)} | ${r.calls.connectionsPerCall.toFixed(3)} | ${seen} |`);
    }
    const names = [...pids.keys()];
    const total = (r: Result) => Object.values(r.cpuMsPerPod).reduce((a, b) => a + b, 0);
    console.log('\nms CPU per pod (user + system, all threads, from /proc/<pid>/stat) during the timed load:');
    console.log(`| clients | set-up | ${names.join(' | ')} | total | total / baseline |`);
    console.log(`|---|---|${names.map(() => '---|').join('')}---|---|`);
    for (const r of results) {
      const base = results.find((x) => x.level === r.level && x.setup === 'baseline');
      console.log(`| ${r.level} | ${r.setup} | ${names.map((n) => (r.cpuMsPerPod[n] ?? 0).toFixed(2)).join(' | ')} | ${total(r).toFixed(2)} | ${base ? (total(r) / total(base)).toFixed(2) : ''} |`);
    }
    console.log(`\nms CPU per second with no load (${IDLE_SECONDS} s, included above in proportion to each cell's duration): ${formatCpu(idleCpu)}`);
    for (const [setup, cpu] of coldCpu) console.log(`ms CPU per pod during the ${setup} warm-up (${WEBHOOK_WARMUP} pods at 10 clients, sidecar-guard just started): ${formatCpu(cpu)}`);
  } finally {
    for (const p of [...processes].reverse()) await stopProcess(p.pid);
  }
}

main().catch((error: unknown) => {
  console.error(`bench:e2e: ${(error as Error).message}`);
  process.exitCode = 1;
});
