import { countRecords, isRecord, labelValue, namespacedName } from './object-facts.js';

/**
 * The compact facts the import computation reads from Services, ServiceEntries and
 * EndpointSlices. The cluster views keep only these (never the objects), so 50,000 Services and
 * 500,000 endpoints fit in a few tens of megabytes.
 */

/** `networking.istio.io/exportTo` on a Service: a comma-separated list (istio-facts §4, exportTo). */
export const SERVICE_EXPORT_TO = 'networking.istio.io/exportTo';
/** The label an EndpointSlice carries naming its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface ServiceFacts {
  readonly namespace: string;
  readonly name: string;
  /** Port count: Istio builds one outbound cluster per service port. */
  readonly ports: number;
  /** `exportTo` as written (annotation or spec), undefined when not set (the mesh default applies). */
  readonly exportTo?: readonly string[];
}

export interface ServiceEntryFacts {
  readonly namespace: string;
  readonly name: string;
  /** `spec.hosts`, lower-cased; each host × port is one cluster. */
  readonly hosts: readonly string[];
  readonly ports: number;
  readonly exportTo?: readonly string[];
  /** `spec.resolution` upper-cased (STATIC, DNS, DNS_ROUND_ROBIN, ...); undefined when unset, which Istio reads as NONE. */
  readonly resolution?: string;
  /** Endpoints per cluster: `spec.endpoints` when given, else one per DNS host, none for NONE. */
  readonly endpoints: number;
}

/** One EndpointSlice reduced to the Service it belongs to and how many endpoints it holds. */
export interface EndpointSliceFacts {
  readonly namespace: string;
  readonly name: string;
  readonly service: string;
  readonly endpoints: number;
}

function namedIn(object: unknown, defaultNamespace?: string): { metadata: Record<string, unknown>; spec: Record<string, unknown>; namespace: string; name: string } | undefined {
  const named = namespacedName(object, defaultNamespace);
  if (!named || !isRecord(object)) return undefined;
  return { ...named, spec: isRecord(object.spec) ? object.spec : {} };
}

/** Splits an exportTo list (array, or the annotation's comma-separated string); empty reads as unset. */
export function parseExportTo(value: unknown): readonly string[] | undefined {
  const list = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const trimmed = list.map((v) => v.trim()).filter((v) => v !== '');
  return trimmed.length > 0 ? trimmed : undefined;
}

function countPorts(spec: Record<string, unknown>): number {
  return countRecords(spec.ports);
}

/** A Service reduced to what the import computation reads. */
export function toServiceFacts(object: unknown, defaultNamespace?: string): ServiceFacts | undefined {
  const named = namedIn(object, defaultNamespace);
  if (!named) return undefined;
  const exportTo = parseExportTo(labelValue(named.metadata.annotations, SERVICE_EXPORT_TO));
  return { namespace: named.namespace, name: named.name, ports: countPorts(named.spec), ...(exportTo ? { exportTo } : {}) };
}

/** A ServiceEntry reduced to what the import computation reads. */
export function toServiceEntryFacts(object: unknown, defaultNamespace?: string): ServiceEntryFacts | undefined {
  const named = namedIn(object, defaultNamespace);
  if (!named) return undefined;
  const { spec } = named;
  const hosts = Array.isArray(spec.hosts) ? spec.hosts.filter((h): h is string => typeof h === 'string' && h !== '').map((h) => h.toLowerCase()) : [];
  const resolution = typeof spec.resolution === 'string' ? spec.resolution.toUpperCase() : undefined;
  const declared = countRecords(spec.endpoints);
  const endpoints = declared > 0 ? declared : resolution?.startsWith('DNS') ? 1 : 0;
  const exportTo = parseExportTo(spec.exportTo);
  return {
    namespace: named.namespace,
    name: named.name,
    hosts,
    ports: countPorts(spec),
    ...(resolution !== undefined ? { resolution } : {}),
    endpoints,
    ...(exportTo ? { exportTo } : {}),
  };
}

/** An EndpointSlice reduced to its Service and endpoint count; undefined when it names no Service. */
export function toEndpointSliceFacts(object: unknown, defaultNamespace?: string): EndpointSliceFacts | undefined {
  const named = namedIn(object, defaultNamespace);
  if (!named || !isRecord(object)) return undefined;
  const service = labelValue(named.metadata.labels, SERVICE_NAME_LABEL);
  if (service === undefined || service === '') return undefined;
  const endpoints = countRecords(object.endpoints);
  return { namespace: named.namespace, name: named.name, service, endpoints };
}

/** What the import computation reads from a cluster view: every lookup in memory. */
export interface ServiceCatalogView {
  /** Changes whenever any fact changes; lets callers memoise per version. */
  readonly version: number;
  /** Namespaces that hold at least one Service or ServiceEntry. */
  namespaces(): Iterable<string>;
  services(namespace: string): readonly ServiceFacts[];
  serviceEntries(namespace: string): readonly ServiceEntryFacts[];
  /** Endpoints of Service `name` summed over its EndpointSlices (0 when none). */
  endpoints(namespace: string, name: string): number;
}

export type CatalogKind = 'Service' | 'ServiceEntry' | 'EndpointSlice';

/** Which catalog kind an object is, by apiVersion and kind (ServiceEntry: networking.istio.io v1, v1beta1, v1alpha3). */
export function classifyCatalogObject(object: unknown): CatalogKind | undefined {
  if (!isRecord(object) || typeof object.apiVersion !== 'string') return undefined;
  if (object.kind === 'Service' && object.apiVersion === 'v1') return 'Service';
  if (object.kind === 'EndpointSlice' && object.apiVersion === 'discovery.k8s.io/v1') return 'EndpointSlice';
  if (object.kind === 'ServiceEntry' && /^networking\.istio\.io\/(v1|v1beta1|v1alpha3)$/.test(object.apiVersion)) return 'ServiceEntry';
  return undefined;
}
