/** Builders for Services, EndpointSlices and ServiceEntries, and a catalog built from them. */
import { ServiceCatalog } from '../../src/cluster/service-catalog.js';

export type Json = Record<string, unknown>;

export function service(namespace: string, name: string, options: { ports?: number; exportTo?: string } = {}): Json {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace, name, ...(options.exportTo !== undefined ? { annotations: { 'networking.istio.io/exportTo': options.exportTo } } : {}) },
    spec: { ports: Array.from({ length: options.ports ?? 1 }, (_, i) => ({ name: `p${i}`, port: 8080 + i })) },
  };
}

export function endpointSlice(namespace: string, name: string, serviceName: string, endpoints: number): Json {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace, name, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    endpoints: Array.from({ length: endpoints }, (_, i) => ({ addresses: [`10.0.${Math.floor(i / 250)}.${i % 250}`] })),
  };
}

export function serviceEntry(
  namespace: string,
  name: string,
  options: { hosts: string[]; ports?: number; exportTo?: string[]; resolution?: string; endpoints?: number },
): Json {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { namespace, name },
    spec: {
      hosts: options.hosts,
      ports: Array.from({ length: options.ports ?? 1 }, (_, i) => ({ number: 443 + i, name: `p${i}`, protocol: 'TLS' })),
      resolution: options.resolution ?? 'DNS',
      ...(options.exportTo ? { exportTo: options.exportTo } : {}),
      ...(options.endpoints ? { endpoints: Array.from({ length: options.endpoints }, (_, i) => ({ address: `192.0.2.${i + 1}` })) } : {}),
    },
  };
}

/** A catalog holding these objects, fed the way the file view feeds it. */
export function catalogOf(objects: readonly Json[]): ServiceCatalog {
  const catalog = new ServiceCatalog();
  for (const object of objects) catalog.putObject(object);
  return catalog;
}
