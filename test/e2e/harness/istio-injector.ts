/**
 * Istio's own sidecar injector in the admission chain: the binary from test/e2e/injector (Istio's
 * pkg/kube/inject, pinned release), fed the injection config, values and mesh config that Istio's
 * istio-discovery chart of the same release renders, and registered with that chart's
 * `istio-sidecar-injector` MutatingWebhookConfiguration (names, selectors, reinvocationPolicy as
 * rendered; only clientConfig points at the local process, as for sidecar-guard).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { basename, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ensureCertDir } from '../../../src/certs/cert-dir.js';
import { helmPath, ROOT, type K8sObject } from '../../charts/helm.js';
import { freePort, startDetached, waitFor, type StartedProcess } from './processes.js';
import { pointAt } from './webhook.js';

export const ISTIO_NAMESPACE = 'istio-system';
export const INJECTOR_PROCESS = 'istio-injector';
export const NATIVE_SIDECARS_FLAG = '--native-sidecars';

export interface IstioBuild {
  dir: string;
  /** The pinned istio.io/istio module version (a pseudo-version of the release tag). */
  moduleVersion: string;
  /** The Istio release that pseudo-version is (the `// istio-release:` line of go.mod). */
  release: string;
}

export interface IstioRender {
  injectorConfig: string;
  injectorValues: string;
  mesh: string;
  mutating: K8sObject;
}

/** Builds the injector if its cache has none yet; returns where it and the chart are. */
export function buildIstioInjector(): IstioBuild {
  const build = spawnSync('bash', [join(ROOT, 'test', 'e2e', 'build-injector.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (build.status !== 0) throw new Error(`test/e2e/build-injector.sh failed (exit ${build.status}); see the messages above`);
  const dir = build.stdout.trim().split('\n').pop() ?? '';
  const goMod = readFileSync(join(ROOT, 'test', 'e2e', 'injector', 'go.mod'), 'utf8');
  const release = /^\/\/ istio-release: (\S+)$/m.exec(goMod)?.[1];
  if (release === undefined) throw new Error('test/e2e/injector/go.mod has no "// istio-release: X.Y.Z" line');
  return { dir, moduleVersion: basename(dir).replace(/^istio-/, ''), release };
}

/**
 * `helm template` of Istio's istio-discovery chart with its defaults (revision "default"). The
 * source chart carries placeholder images; hub and tag are set as Istio's release build sets them
 * in the published chart.
 */
export function renderIstio(build: IstioBuild): IstioRender {
  const args = ['template', 'istiod', join(build.dir, 'istio-discovery'), '--namespace', ISTIO_NAMESPACE, '--set', 'global.hub=docker.io/istio', '--set', `global.tag=${build.release}`];
  const result = spawnSync(helmPath(), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`helm template of Istio's istio-discovery chart failed:\n${result.stderr}`);
  const objects = parseAllDocuments(result.stdout).map((d) => d.toJS() as K8sObject | null).filter((o): o is K8sObject => o !== null);
  const find = (kind: string, name: string) => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`Istio's chart rendered no ${kind} ${name}`);
    return found;
  };
  const injector = find('ConfigMap', 'istio-sidecar-injector') as K8sObject & { data: Record<string, string> };
  const meshConfigMap = find('ConfigMap', 'istio') as K8sObject & { data: Record<string, string> };
  const [injectorConfig, injectorValues, mesh] = [injector.data.config, injector.data.values, meshConfigMap.data.mesh];
  if (injectorConfig === undefined || injectorValues === undefined || mesh === undefined) throw new Error("Istio's chart rendered ConfigMaps without config, values or mesh");
  return { injectorConfig, injectorValues, mesh, mutating: find('MutatingWebhookConfiguration', 'istio-sidecar-injector') };
}

export interface IstioInjector {
  url: string;
  caPem: string;
  process: StartedProcess;
  /** The chart's MutatingWebhookConfiguration pointed at the process. */
  mutating: K8sObject;
}

/** Starts the injector on loopback with a serving certificate of its own CA. */
export async function startIstioInjector(dir: string, build: IstioBuild, options: { nativeSidecars: boolean }): Promise<IstioInjector> {
  const render = renderIstio(build);
  const istioDir = join(dir, 'istio');
  mkdirSync(istioDir, { recursive: true });
  const files = { config: join(istioDir, 'config'), values: join(istioDir, 'values'), mesh: join(istioDir, 'mesh') };
  writeFileSync(files.config, render.injectorConfig);
  writeFileSync(files.values, render.injectorValues);
  writeFileSync(files.mesh, render.mesh);
  const tls = await ensureCertDir(join(istioDir, 'certs'), { service: 'istiod', namespace: ISTIO_NAMESPACE });
  if (tls.ca === undefined) throw new Error('the injector certificate directory has no ca.crt');
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const started = startDetached(INJECTOR_PROCESS, join(build.dir, 'istio-injector'), [
    '--config', files.config,
    '--values', files.values,
    '--mesh', files.mesh,
    '--cert', tls.paths.cert,
    '--key', tls.paths.key,
    '--listen', `127.0.0.1:${port}`,
    ...(options.nativeSidecars ? [NATIVE_SIDECARS_FLAG] : []),
  ], join(dir, 'logs', `${INJECTOR_PROCESS}.log`));
  await waitForInjector(url, tls.ca, started.log);
  return { url, caPem: tls.ca, process: started, mutating: pointAt(render.mutating, url, tls.ca) };
}

/** Waits until the injector at `url` answers /ready (after a start or a restart). */
export function waitForInjector(url: string, caPem: string, log: string): Promise<void> {
  return waitFor("Istio's injector", () => httpsOk(`${url}/ready`, caPem), 30_000, log);
}

function httpsOk(url: string, caPem: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { ca: caPem, servername: 'localhost', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', () => resolve(false));
    req.end();
  });
}
