/** Services, EndpointSlices and ServiceEntries for the scale benchmark, spread over the namespaces of cluster-objects.ts. */
import type { Json } from '../test/support/builders.js';
import { endpointSlice, service, serviceEntry } from '../test/support/catalog-builders.js';

export const BENCH_SERVICES = Number(process.env.BENCH_SERVICES ?? 50_000);
export const BENCH_ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 500_000);

/** `services` Services over `namespaces` namespaces (2 ports each, every 10th exported to its own namespace only), one EndpointSlice each sharing `endpoints`, and one ServiceEntry per 100 namespaces. */
export function scaleCatalogObjects(namespaces: number, services: number, endpoints: number): Json[] {
  const objects: Json[] = [];
  const perSlice = services > 0 ? Math.floor(endpoints / services) : 0;
  for (let i = 0; i < services; i++) {
    const ns = `ns-${i % namespaces}`;
    const svc = service(ns, `svc-${i}`, { ports: 2, ...(i % 10 === 0 ? { exportTo: '.' } : {}) });
    Object.assign(svc.metadata as Json, { uid: `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`, resourceVersion: String(100_000 + i), labels: { app: `svc-${i}` } });
    objects.push(svc);
    objects.push(endpointSlice(ns, `svc-${i}-abcde`, `svc-${i}`, perSlice));
  }
  for (let i = 0; i < namespaces; i += 100) objects.push(serviceEntry(`ns-${i}`, `external-${i}`, { hosts: [`api-${i}.example.com`], resolution: 'DNS' }));
  return objects;
}
