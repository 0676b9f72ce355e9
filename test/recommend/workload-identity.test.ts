import t from 'tap';
import { podFactsFromName, podFactsFromPod, workloadFromPodName, workloadOfPod } from '../../src/recommend/workload-identity.js';

t.test('pod names read the way controllers build them', async (t) => {
  const cases: [string, string, string][] = [
    ['reviews-v1-7d4b9c8f6d-h4k2n', 'reviews-v1', 'Deployment'],
    ['web-frontend-6d9f7c8b5b-tq4zx', 'web-frontend', 'Deployment'],
    ['postgres-0', 'postgres', 'StatefulSet'],
    ['node-agent-x2kqp', 'node-agent', 'unknown'],
    ['standalone', 'standalone', 'Pod'],
    // "a1b0c" has vowels and a 0: not a controller suffix, so the name is kept.
    ['debug-a1b0c', 'debug-a1b0c', 'Pod'],
  ];
  for (const [pod, workload, kind] of cases) t.same(workloadFromPodName(pod), { workload, kind }, pod);
});

t.test('owner references win over the name', async (t) => {
  const meta = (ownerReferences: { kind: string; name: string; controller?: boolean }[], labels: Record<string, string> = {}) => ({
    metadata: { name: 'x-12345', labels, ownerReferences },
  });
  t.same(workloadOfPod(meta([{ kind: 'ReplicaSet', name: 'api-5f7d8c9b6d', controller: true }], { 'pod-template-hash': '5f7d8c9b6d' })), {
    workload: 'api',
    kind: 'Deployment',
  });
  t.same(workloadOfPod(meta([{ kind: 'ReplicaSet', name: 'legacy-rs' }])), { workload: 'legacy-rs', kind: 'ReplicaSet' });
  t.same(workloadOfPod(meta([{ kind: 'StatefulSet', name: 'db', controller: true }])), { workload: 'db', kind: 'StatefulSet' });
  t.same(workloadOfPod(meta([{ kind: 'Node', name: 'n1' }])), { workload: 'n1', kind: 'unknown' });
  t.same(workloadOfPod(meta([])), { workload: 'x-12345', kind: 'Pod' });
});

t.test('pod facts: proxy memory from the container, else annotations; OOM from the last state; gateways', async (t) => {
  const facts = podFactsFromPod({
    metadata: { name: 'p', namespace: 'ns', labels: { app: 'a' }, annotations: { 'sidecar.istio.io/proxyMemoryLimit': '256Mi' } },
    spec: { containers: [{ name: 'app' }, { name: 'istio-proxy', resources: { requests: { memory: '64Mi' } } }] },
    status: { containerStatuses: [{ name: 'istio-proxy', lastState: { terminated: { reason: 'OOMKilled' } } }] },
  });
  t.equal(facts.memoryRequest, 64 * 2 ** 20);
  t.equal(facts.memoryLimit, 256 * 2 ** 20);
  t.equal(facts.oomKills, 1);
  t.equal(facts.gateway, false);
  const native = podFactsFromPod({
    metadata: { name: 'g', namespace: 'istio-system', labels: { istio: 'ingressgateway' } },
    spec: { initContainers: [{ name: 'istio-proxy' }] },
    status: { initContainerStatuses: [{ name: 'istio-proxy', state: { terminated: { reason: 'Completed' } } }] },
  });
  t.equal(native.gateway, true);
  t.equal(native.oomKills, 0);
  t.notOk('memoryLimit' in native);
  t.same(podFactsFromName('bookinfo', 'ratings-v1-7bd5c8f96c-m5vxr', { oomKills: 2 }), {
    namespace: 'bookinfo',
    pod: 'ratings-v1-7bd5c8f96c-m5vxr',
    workload: 'ratings-v1',
    workloadKind: 'Deployment',
    labels: {},
    oomKills: 2,
    gateway: false,
  });
});
