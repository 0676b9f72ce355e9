/**
 * Size follows scope, through the real API server: Services and EndpointSlices created with kubectl
 * reach the webhook's catalog through its watches, a Sidecar that widens a namespace's imports gets
 * the predicted change as a kubectl warning, and a pod whose profile's limit is below its prediction
 * is warned with the numbers and carries them in the audit log.
 */
import t from 'tap';
import { auditEvents, eventually, freshNamespace, kubectl, MESH, pod, sidecar, warnings } from '../support.js';

const SERVICES = 10;
const PORTS = 250;
const ENDPOINTS_PER_SLICE = 10;

/** Selector-less Services (no controller touches them) with many ports, and one EndpointSlice each. */
function bigServices(namespace: string): object[] {
  const objects: object[] = [];
  for (let s = 0; s < SERVICES; s++) {
    const name = `svc-${s}`;
    const ports = Array.from({ length: PORTS }, (_, p) => ({ name: `p${p}`, port: 10_000 + p, protocol: 'TCP' }));
    objects.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports } });
    objects.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'p0', port: 10_000, protocol: 'TCP' }],
      endpoints: Array.from({ length: ENDPOINTS_PER_SLICE }, (_, e) => ({ addresses: [`10.${s}.0.${e + 1}`], conditions: { ready: true } })),
    });
  }
  return objects;
}

// kubectl shows each finding's short form: `sidecar-guard: widens imports: 0 → 10 services, 7 → 2,507 clusters, …`.
const WIDENS = /^sidecar-guard: widens imports: ([\d,]+) → ([\d,]+) services, ([\d,]+) → ([\d,]+) clusters, ([\d,]+) → ([\d,]+) endpoints; predicted per proxy/;
const POD_OVER = /^sidecar-guard: istio-proxy imports ([\d,]+) services? \/ ([\d,]+) clusters \/ ([\d,]+) endpoints; predicted [\d.]+ MiB; profile small limits 128 MiB$/;
const count = (text: string | undefined) => Number((text ?? '').replaceAll(',', ''));

t.test('a Sidecar that imports a namespace of big Services is warned with the predicted change, and pods under it with their profile limit', async (t) => {
  const big = freshNamespace(t, 'big');
  const created = kubectl(['apply', '-f', '-'], { apiVersion: 'v1', kind: 'List', items: bigServices(big) });
  t.equal(created.code, 0, created.stderr);

  // batch-* namespaces get the small profile (128Mi limit) from the built-in rules.
  const ns = freshNamespace(t, 'batch', MESH);
  const narrow = kubectl(['apply', '-f', '-'], sidecar(ns, 'default'));
  t.equal(narrow.code, 0, narrow.stderr);
  t.same(warnings(narrow).filter((w) => w.includes('widens')), [], 'a Sidecar importing its own empty namespace widens nothing');

  const wide = sidecar(ns, 'default', ['./*', 'istio-system/*', `${big}/*`]);
  // The catalog follows the API server through watches: wait until the dry run counts the new Services.
  const { value: shown } = await eventually(
    'the widening warning counts the new Services',
    () => {
      const dry = kubectl(['apply', '--dry-run=server', '-f', '-'], wide);
      const line = warnings(dry).find((w) => WIDENS.test(w));
      const m = line === undefined ? undefined : WIDENS.exec(line);
      return m && count(m[2]) - count(m[1]) === SERVICES ? { m, all: warnings(dry) } : undefined;
    },
    20_000,
  );
  t.equal(count(shown.m[4]) - count(shown.m[3]), SERVICES * PORTS, 'one more Envoy cluster per service port');
  t.equal(count(shown.m[6]) - count(shown.m[5]), SERVICES * PORTS * ENDPOINTS_PER_SLICE, 'every endpoint once per cluster of its service');
  t.ok(
    shown.all.some((w) => /^sidecar-guard: workloads would be predicted at [\d.]+ MiB per proxy, above profile small's 128 MiB limit$/.test(w)),
    `the prediction is above the small profile's limit: ${shown.all.join(' | ')}`,
  );

  const applied = kubectl(['apply', '-f', '-'], wide);
  t.equal(applied.code, 0, 'warn is the default: the widening Sidecar is stored');
  t.ok(warnings(applied).some((w) => WIDENS.test(w)), 'and the real apply shows the same warning');

  await eventually('the webhook sees the widened Sidecar', () => warnings(kubectl(['apply', '--dry-run=server', '-f', '-'], pod(ns, 'job'))).some((w) => POD_OVER.test(w)));
  const admitted = kubectl(['apply', '-f', '-'], pod(ns, 'job'));
  t.equal(admitted.code, 0, admitted.stderr);
  const podWarning = warnings(admitted).find((w) => POD_OVER.test(w));
  const podNumbers = POD_OVER.exec(podWarning ?? '');
  t.ok(podNumbers, `the pod is warned with its numbers: ${warnings(admitted).join(' | ')}`);
  t.ok(count(podNumbers?.[1]) >= SERVICES && count(podNumbers?.[2]) >= SERVICES * PORTS, 'the pod imports the big Services through its Sidecar');
  const event = auditEvents(ns, 'job', 'pods').find((e) => e.verb === 'create' && e.stage === 'ResponseComplete');
  const annotation = Object.entries(event?.annotations ?? {}).find(([key]) => key.endsWith('/predicted-memory'));
  t.match(annotation?.[1], /profile small limits 128 MiB/, 'the audit log carries the numbers');

  // Narrowed again, new pods are predicted small and get no warning.
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
  await eventually('a pod under the narrowed Sidecar is not warned', () => {
    const name = `job-${Date.now()}`;
    const again = kubectl(['apply', '--dry-run=server', '-f', '-'], pod(ns, name));
    return again.code === 0 && !warnings(again).some((w) => POD_OVER.test(w));
  });
});
