/** The large cluster of the scale benchmarks: Namespaces as the API serves them, Sidecars spread over them. */
import { namespace, sidecar, type Json } from '../test/support/builders.js';

/** `namespaces` Namespaces (9 in 10 meshed), each with a namespace-wide Sidecar, the rest selector Sidecars. */
export function scaleClusterObjects(namespaces: number, sidecars: number): Json[] {
  const objects: Json[] = [];
  for (let i = 0; i < namespaces; i++) {
    const ns = namespace(`ns-${i}`, { 'istio-injection': i % 10 === 9 ? 'disabled' : 'enabled', 'kubernetes.io/metadata.name': `ns-${i}`, team: `team-${i % 50}` }, { 'example.com/owner': `team-${i % 50}@example.com` });
    Object.assign(ns.metadata as Json, { uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, resourceVersion: String(1000 + i), creationTimestamp: '2026-01-01T00:00:00Z' });
    objects.push(ns);
  }
  for (let i = 0; i < sidecars; i++) {
    const ns = `ns-${i % namespaces}`;
    objects.push(i < namespaces ? sidecar(ns, 'default') : sidecar(ns, `app-${i}`, { selector: { app: `app-${i}` }, hosts: ['./*', 'istio-system/*', `ns-${(i + 1) % namespaces}/*`] }));
  }
  return objects;
}
