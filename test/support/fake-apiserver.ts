/**
 * A small, protocol-faithful stand-in for the kube-apiserver, for tests through the real
 * @kubernetes/client-node. There is no apiserver on these machines; this serves what our code
 * uses, the way the apiserver does:
 * - LIST with `limit`/`continue` paging and `metadata.resourceVersion` (one snapshot for all pages);
 * - WATCH (`?watch=true&resourceVersion=N`): newline-delimited JSON events ADDED/MODIFIED/DELETED,
 *   BOOKMARK when `allowWatchBookmarks=true`, and `ERROR` with a 410 Gone Status when N is older
 *   than the retained history (then the stream ends, as the apiserver does);
 * - GET, POST (409 AlreadyExists), PUT (409 Conflict on a stale resourceVersion), PATCH
 *   (json-patch and merge-patch), DELETE (409 on a failed resourceVersion precondition); 404 for
 *   versions that are not served. Leases and the policy report kinds are served like the rest.
 * Test controls: put/remove objects, serve a version later, drop every watch connection, go silent (keep watches open
 * but send nothing), compact history (old resourceVersions get 410), stop and restart on the
 * same port.
 *
 * Plain HTTP on 127.0.0.1: client-node needs `skipTLSVerify: true` for an http:// server
 * (toolchain.md), which `kubeConfig()` sets.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';

type Obj = Record<string, unknown> & { metadata?: Record<string, unknown> };

interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  key: string;
  object: Obj;
  /** The object before a MODIFIED, so label-selected watches see it enter or leave their selector. */
  previous?: Obj;
}

interface Watcher {
  type: ResourceType;
  namespace?: string;
  res: ServerResponse;
  bookmarks: boolean;
  selector?: LabelSelector;
}

/** `labelSelector` requirements: `key`, `!key`, `key=value`, `key!=value` (what the views use). */
type LabelSelector = ((labels: Record<string, string>) => boolean)[];

function parseLabelSelector(text: string | null): LabelSelector | undefined {
  if (!text) return undefined;
  return text.split(',').map((part) => {
    const [key = '', value] = part.split(/!?==?/);
    if (part.startsWith('!')) return (labels) => !Object.hasOwn(labels, part.slice(1));
    if (value === undefined) return (labels) => Object.hasOwn(labels, key);
    if (part.includes('!=')) return (labels) => labels[key] !== value;
    return (labels) => labels[key] === value;
  });
}

function selects(selector: LabelSelector | undefined, object: Obj | undefined): boolean {
  const labels = (object?.metadata?.labels ?? {}) as Record<string, string>;
  return selector === undefined || selector.every((requirement) => requirement(labels));
}

const BUILT_IN: ResourceType[] = [
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  ...['v1', 'v1beta1', 'v1alpha3'].map((version) => ({ group: 'networking.istio.io', version, plural: 'serviceentries', kind: 'ServiceEntry', namespaced: true })),
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'daemonsets', kind: 'DaemonSet', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true },
  { group: 'batch', version: 'v1', plural: 'cronjobs', kind: 'CronJob', namespaced: true },
  ...['v1', 'v1beta1', 'v1alpha3'].map((version) => ({ group: 'networking.istio.io', version, plural: 'sidecars', kind: 'Sidecar', namespaced: true })),
  { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', namespaced: false },
  { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingwebhookconfigurations', kind: 'ValidatingWebhookConfiguration', namespaced: false },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  { group: 'wgpolicyk8s.io', version: 'v1alpha2', plural: 'policyreports', kind: 'PolicyReport', namespaced: true },
  { group: 'wgpolicyk8s.io', version: 'v1alpha2', plural: 'clusterpolicyreports', kind: 'ClusterPolicyReport', namespaced: false },
  { group: 'openreports.io', version: 'v1alpha1', plural: 'reports', kind: 'Report', namespaced: true },
  { group: 'openreports.io', version: 'v1alpha1', plural: 'clusterreports', kind: 'ClusterReport', namespaced: false },
];

export interface FakeApiServerOptions {
  /** Versions served, as `group/version` (`v1` for core). Default: all built in. */
  served?: string[];
  /** Send a BOOKMARK to bookmark-enabled watches this often (ms); 0 = never. */
  bookmarkIntervalMs?: number;
}

function status(code: number, reason: string, message: string): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export class FakeApiServer {
  readonly #types: ResourceType[];
  readonly #served: Set<string>;
  /** Objects by `group/plural` + namespace + name: the storage is version-independent, as in etcd. */
  readonly #objects = new Map<string, Obj>();
  readonly #listCache = new Map<string, [string, Obj][]>();
  /** Each stored object's JSON per apiVersion it was served as; stored objects are never changed in place (put replaces them). */
  readonly #encoded = new WeakMap<Obj, Map<string, string>>();
  #listCacheRv = -1;
  #events: WatchEvent[] = [];
  #rv = 1;
  #oldestRv = 1;
  #server: Server | undefined;
  #port = 0;
  #watchers = new Set<Watcher>();
  #sockets = new Set<Socket>();
  #silent = false;
  #bookmarkTimer: NodeJS.Timeout | undefined;
  readonly #bookmarkIntervalMs: number;
  /** Every request seen, as `METHOD path?query`, for assertions. */
  readonly requests: string[] = [];
  /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  connections = 0;

  constructor(options: FakeApiServerOptions = {}) {
    this.#types = BUILT_IN;
    this.#served = new Set(options.served ?? BUILT_IN.map((t) => (t.group ? `${t.group}/${t.version}` : t.version)));
    this.#bookmarkIntervalMs = options.bookmarkIntervalMs ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** A KubeConfig pointing at this server, as a user's kubeconfig would. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'tester', token: 'fake-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'tester' }],
      currentContext: 'fake',
    });
    return kc;
  }

  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => this.#handle(req, res));
    server.on('connection', (socket) => {
      this.connections += 1;
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(port || this.#port, '127.0.0.1', resolve));
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    if (this.#bookmarkIntervalMs > 0) {
      this.#bookmarkTimer = setInterval(() => this.#sendBookmarks(), this.#bookmarkIntervalMs);
      this.#bookmarkTimer.unref();
    }
    return this;
  }

  /** Stops serving and cuts every connection (a crashed apiserver). Objects are kept. */
  async stop(): Promise<void> {
    clearInterval(this.#bookmarkTimer);
    const server = this.#server;
    this.#server = undefined;
    // Stop accepting first, so a client that reconnects at once cannot hold the close open.
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const socket of this.#sockets) socket.destroy();
    this.#watchers.clear();
    await closed;
  }

  /** Starts again on the same port, with the same objects. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start(this.#port);
  }

  /** Starts serving `group/version` (say, Istio's CRDs applied after the webhook started). */
  serveVersion(groupVersion: string): void {
    this.#served.add(groupVersion);
  }

  /** Cuts every open watch connection mid-stream. */
  dropWatches(): void {
    for (const watcher of this.#watchers) watcher.res.socket?.destroy();
    this.#watchers.clear();
  }

  /** Ends every open watch cleanly, as the apiserver does when a watch times out. */
  endWatches(): void {
    for (const watcher of this.#watchers) watcher.res.end();
    this.#watchers.clear();
  }

  /** While silent, open watches receive nothing (a stalled stream); new watches are normal. */
  silence(silent: boolean): void {
    this.#silent = silent;
    if (silent) for (const watcher of this.#watchers) (watcher as Watcher & { muted?: boolean }).muted = true;
  }

  /** Forgets the event history: a watch from an older resourceVersion gets 410 Gone. */
  compact(): void {
    this.#events = [];
    this.#oldestRv = this.#rv;
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  get openWatches(): number {
    return this.#watchers.size;
  }

  #typeOf(group: string, version: string, plural: string): ResourceType | undefined {
    return this.#types.find((t) => t.group === group && t.version === version && t.plural === plural);
  }

  #typeForObject(object: Obj): ResourceType {
    const [group, version] = String(object.apiVersion).includes('/') ? String(object.apiVersion).split('/') : ['', String(object.apiVersion)];
    const type = this.#types.find((t) => t.group === group && t.version === version && t.kind === object.kind);
    if (!type) throw new Error(`fake apiserver: unknown type ${String(object.apiVersion)} ${String(object.kind)}`);
    return type;
  }

  #key(type: ResourceType, namespace: string | undefined, name: string): string {
    return `${type.group}/${type.plural}/${type.namespaced ? namespace ?? '' : ''}/${name}`;
  }

  #record(type: ResourceType, eventType: WatchEvent['type'], key: string, object: Obj, previous?: Obj): void {
    const event: WatchEvent = { rv: Number(object.metadata?.resourceVersion), type: eventType, key, object, ...(previous ? { previous } : {}) };
    this.#events.push(event);
    for (const watcher of this.#watchers) this.#deliver(watcher, type, event);
  }

  /** Adds or replaces an object (as if some client wrote it); returns the stored copy. */
  put(object: Obj): Obj {
    const type = this.#typeForObject(object);
    const metadata = { ...(object.metadata ?? {}) };
    const key = this.#key(type, metadata.namespace as string | undefined, String(metadata.name));
    const existing = this.#objects.get(key);
    metadata.resourceVersion = String(++this.#rv);
    metadata.uid ??= existing?.metadata?.uid ?? `uid-${this.#rv}`;
    metadata.creationTimestamp ??= existing?.metadata?.creationTimestamp ?? new Date(Date.UTC(2026, 0, 1, 0, 0, this.#rv)).toISOString();
    const stored: Obj = { ...structuredClone(object), metadata };
    this.#objects.set(key, stored);
    this.#record(type, existing ? 'MODIFIED' : 'ADDED', key, stored, existing);
    return stored;
  }

  /** Deletes an object; returns whether it existed. */
  remove(object: Obj): boolean {
    const type = this.#typeForObject(object);
    const key = this.#key(type, object.metadata?.namespace as string | undefined, String(object.metadata?.name));
    const existing = this.#objects.get(key);
    if (!existing) return false;
    this.#objects.delete(key);
    const gone = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(++this.#rv) } };
    this.#record(type, 'DELETED', key, gone);
    return true;
  }

  /** The stored object, if any: read it, do not change it (lists serve a cached encoding of it; put a changed copy). */
  get(apiVersion: string, kind: string, name: string, namespace?: string): Obj | undefined {
    const type = this.#typeForObject({ apiVersion, kind });
    return this.#objects.get(this.#key(type, namespace, name));
  }

  #inScope(type: ResourceType, key: string, namespace?: string): boolean {
    return key.startsWith(`${type.group}/${type.plural}/${namespace !== undefined ? `${namespace}/` : ''}`);
  }

  #asVersion(type: ResourceType, object: Obj): Obj {
    return { ...object, apiVersion: type.group ? `${type.group}/${type.version}` : type.version, kind: type.kind };
  }

  #deliver(watcher: Watcher & { muted?: boolean }, type: ResourceType, event: WatchEvent): void {
    if (watcher.muted || watcher.type.group !== type.group || watcher.type.plural !== type.plural) return;
    if (!this.#inScope(watcher.type, event.key, watcher.namespace)) return;
    // As the API server's watch cache: an object entering the selector is ADDED, leaving it DELETED.
    let eventType: WatchEvent['type'] = event.type;
    if (watcher.selector) {
      const now = selects(watcher.selector, event.object);
      const before = event.type === 'MODIFIED' && selects(watcher.selector, event.previous);
      if (!now && !before) return;
      if (event.type === 'MODIFIED') eventType = now && before ? 'MODIFIED' : now ? 'ADDED' : 'DELETED';
    }
    watcher.res.write(`${JSON.stringify({ type: eventType, object: this.#asVersion(watcher.type, event.object) })}\n`);
  }

  #sendBookmarks(): void {
    for (const watcher of this.#watchers as Set<Watcher & { muted?: boolean }>) {
      if (!watcher.bookmarks || watcher.muted) continue;
      const bookmark = { kind: watcher.type.kind, apiVersion: watcher.type.group ? `${watcher.type.group}/${watcher.type.version}` : watcher.type.version, metadata: { resourceVersion: String(this.#rv) } };
      watcher.res.write(`${JSON.stringify({ type: 'BOOKMARK', object: bookmark })}\n`);
    }
  }

  #send(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  #parse(url: URL): { type: ResourceType; namespace?: string; name?: string } | { error: number } {
    const parts = url.pathname.split('/').filter(Boolean);
    let group = '';
    let version: string | undefined;
    let rest: string[];
    if (parts[0] === 'api') {
      version = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === 'apis') {
      group = parts[1] ?? '';
      version = parts[2];
      rest = parts.slice(3);
    } else return { error: 404 };
    if (!version || !this.#served.has(group ? `${group}/${version}` : version)) return { error: 404 };
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const type = rest[0] ? this.#typeOf(group, version, rest[0]) : undefined;
    if (!type) return { error: 404 };
    return { type, ...(namespace !== undefined ? { namespace } : {}), ...(rest[1] ? { name: rest[1] } : {}) };
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const target = this.#parse(url);
    if ('error' in target) return this.#send(res, 404, status(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`));
    const { type, namespace, name } = target;
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      try {
        if (req.method === 'GET' && name === undefined && url.searchParams.get('watch') === 'true') return this.#watch(type, namespace, url, res);
        if (req.method === 'GET' && name === undefined) return this.#list(type, namespace, url, res);
        if (req.method === 'GET') return this.#getOne(type, namespace, name ?? '', res);
        if (req.method === 'POST') return this.#create(type, namespace, JSON.parse(body) as Obj, res);
        if (req.method === 'PUT') return this.#update(type, namespace, name ?? '', JSON.parse(body) as Obj, res);
        if (req.method === 'PATCH') return this.#patch(type, namespace, name ?? '', body, req.headers['content-type'] ?? '', res);
        if (req.method === 'DELETE') return this.#delete(type, namespace, name ?? '', body, res);
        this.#send(res, 405, status(405, 'MethodNotAllowed', 'method not allowed'));
      } catch (error) {
        this.#send(res, 400, status(400, 'BadRequest', (error as Error).message));
      }
    });
  }

  /** The objects of one type (and namespace), sorted by key; reused while nothing changes, so a paged LIST is not O(n log n) per page. */
  #sortedScope(type: ResourceType, namespace: string | undefined): [string, Obj][] {
    if (this.#listCacheRv !== this.#rv) {
      this.#listCache.clear();
      this.#listCacheRv = this.#rv;
    }
    // Storage is version-independent (#asVersion applies the version per response), so the key has none.
    const cacheKey = `${type.group}/${type.plural}\u0000${namespace ?? ''}`;
    let all = this.#listCache.get(cacheKey);
    if (all === undefined) {
      all = [...this.#objects.entries()].filter(([key]) => this.#inScope(type, key, namespace)).sort(([a], [b]) => a.localeCompare(b));
      this.#listCache.set(cacheKey, all);
    }
    return all;
  }

  #list(type: ResourceType, namespace: string | undefined, url: URL, res: ServerResponse): void {
    const limit = Number(url.searchParams.get('limit') ?? 0);
    const token = url.searchParams.get('continue');
    const [snapshotRv, start] = token ? (JSON.parse(Buffer.from(token, 'base64').toString()) as [number, number]) : [this.#rv, 0];
    const selector = parseLabelSelector(url.searchParams.get('labelSelector'));
    const scope = this.#sortedScope(type, namespace);
    const all = selector ? scope.filter(([, object]) => selects(selector, object)) : scope;
    const page = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
    const next = limit > 0 && start + limit < all.length ? Buffer.from(JSON.stringify([snapshotRv, start + limit])).toString('base64') : undefined;
    const head = JSON.stringify({
      kind: `${type.kind}List`,
      apiVersion: type.group ? `${type.group}/${type.version}` : type.version,
      metadata: { resourceVersion: String(snapshotRv), ...(next ? { continue: next } : {}) },
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`${head.slice(0, -1)},"items":[${page.map(([, object]) => this.#encode(type, object)).join(',')}]}`);
  }

  /** The object as served at `type`'s version, encoded once per object and version. */
  #encode(type: ResourceType, object: Obj): string {
    let byVersion = this.#encoded.get(object);
    if (byVersion === undefined) this.#encoded.set(object, (byVersion = new Map()));
    let text = byVersion.get(type.version);
    if (text === undefined) byVersion.set(type.version, (text = JSON.stringify(this.#asVersion(type, object))));
    return text;
  }

  /**
   * Sorts and encodes every stored object for every served version of its type now, so that the
   * lists that follow only join strings (the scale benchmark calls it before its clock starts: the
   * stand-in shares the cores with the process being measured).
   */
  preEncode(): void {
    for (const type of this.#types) {
      if (!this.#served.has(type.group ? `${type.group}/${type.version}` : type.version)) continue;
      for (const [, object] of this.#sortedScope(type, undefined)) this.#encode(type, object);
    }
  }

  #watch(type: ResourceType, namespace: string | undefined, url: URL, res: ServerResponse): void {
    const from = Number(url.searchParams.get('resourceVersion') ?? this.#rv);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // The apiserver sends the headers at once; clients wait for them before reading events.
    res.flushHeaders();
    if (from < this.#oldestRv) {
      const gone = status(410, 'Expired', `too old resource version: ${from} (${this.#oldestRv})`);
      res.end(`${JSON.stringify({ type: 'ERROR', object: gone })}\n`);
      return;
    }
    const selector = parseLabelSelector(url.searchParams.get('labelSelector'));
    const watcher: Watcher = { type, ...(namespace !== undefined ? { namespace } : {}), ...(selector ? { selector } : {}), res, bookmarks: url.searchParams.get('allowWatchBookmarks') === 'true' };
    for (const event of this.#events) if (event.rv > from) this.#deliver(watcher, this.#typeOfKey(event.key) ?? type, event);
    if (this.#silent) (watcher as Watcher & { muted?: boolean }).muted = true;
    this.#watchers.add(watcher);
    res.on('close', () => this.#watchers.delete(watcher));
  }

  #typeOfKey(key: string): ResourceType | undefined {
    const [group, plural] = key.split('/');
    return this.#types.find((t) => t.group === group && t.plural === plural);
  }

  #getOne(type: ResourceType, namespace: string | undefined, name: string, res: ServerResponse): void {
    const object = this.#objects.get(this.#key(type, namespace, name));
    if (!object) return this.#send(res, 404, status(404, 'NotFound', `${type.plural} "${name}" not found`));
    this.#send(res, 200, this.#asVersion(type, object));
  }

  #create(type: ResourceType, namespace: string | undefined, object: Obj, res: ServerResponse): void {
    const name = String(object.metadata?.name ?? '');
    if (this.#objects.has(this.#key(type, namespace, name))) {
      return this.#send(res, 409, status(409, 'AlreadyExists', `${type.plural} "${name}" already exists`));
    }
    const stored = this.put(this.#asVersion(type, { ...object, metadata: { ...object.metadata, ...(type.namespaced ? { namespace } : {}) } }));
    this.#send(res, 201, this.#asVersion(type, stored));
  }

  #update(type: ResourceType, namespace: string | undefined, name: string, object: Obj, res: ServerResponse): void {
    const existing = this.#objects.get(this.#key(type, namespace, name));
    if (!existing) return this.#send(res, 404, status(404, 'NotFound', `${type.plural} "${name}" not found`));
    const rv = object.metadata?.resourceVersion;
    if (rv !== undefined && rv !== existing.metadata?.resourceVersion) {
      return this.#send(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on ${type.plural} "${name}": the object has been modified`));
    }
    const stored = this.put(this.#asVersion(type, { ...object, metadata: { ...object.metadata, name, ...(type.namespaced ? { namespace } : {}) } }));
    this.#send(res, 200, this.#asVersion(type, stored));
  }

  #patch(type: ResourceType, namespace: string | undefined, name: string, body: string, contentType: string, res: ServerResponse): void {
    const existing = this.#objects.get(this.#key(type, namespace, name));
    if (!existing) return this.#send(res, 404, status(404, 'NotFound', `${type.plural} "${name}" not found`));
    let next: Obj;
    if (contentType.startsWith('application/json-patch+json')) {
      try {
        next = jsonpatch.applyPatch(structuredClone(existing), JSON.parse(body) as jsonpatch.Operation[], true, false).newDocument;
      } catch (error) {
        const test = (error as { name?: string }).name === 'TEST_OPERATION_FAILED';
        return this.#send(res, test ? 409 : 422, status(test ? 409 : 422, test ? 'Conflict' : 'Invalid', (error as Error).message));
      }
    } else {
      next = mergePatch(existing, JSON.parse(body)) as Obj;
    }
    const stored = this.put(this.#asVersion(type, next));
    this.#send(res, 200, this.#asVersion(type, stored));
  }

  #delete(type: ResourceType, namespace: string | undefined, name: string, body: string, res: ServerResponse): void {
    const existing = this.#objects.get(this.#key(type, namespace, name));
    // DeleteOptions.preconditions.resourceVersion: 409 when the object moved on, as the apiserver answers.
    const wanted = body ? (JSON.parse(body) as { preconditions?: { resourceVersion?: string } }).preconditions?.resourceVersion : undefined;
    if (existing && wanted !== undefined && wanted !== existing.metadata?.resourceVersion) {
      return this.#send(res, 409, status(409, 'Conflict', `Precondition failed: ResourceVersion in precondition: ${wanted}, ResourceVersion in object meta: ${String(existing.metadata?.resourceVersion)}`));
    }
    if (!existing || !this.remove(this.#asVersion(type, existing))) {
      return this.#send(res, 404, status(404, 'NotFound', `${type.plural} "${name}" not found`));
    }
    this.#send(res, 200, status(200, '', 'deleted'));
  }
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}
