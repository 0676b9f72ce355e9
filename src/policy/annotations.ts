/** Annotation and label keys the policy reads and writes, with where each comes from. */

/** Istio's per-pod proxy resource annotations (istio/api annotation/annotations.yaml, istio-facts §1.1). */
export const PROXY_CPU = 'sidecar.istio.io/proxyCPU';
export const PROXY_CPU_LIMIT = 'sidecar.istio.io/proxyCPULimit';
export const PROXY_MEMORY = 'sidecar.istio.io/proxyMemory';
export const PROXY_MEMORY_LIMIT = 'sidecar.istio.io/proxyMemoryLimit';

/** Written by Istio's injector on every pod it injected (istio-facts §1.1). */
export const SIDECAR_STATUS = 'sidecar.istio.io/status';
/**
 * Containers Istio's injector merges over the ones it injects (istio/istio pkg/kube/inject/webhook.go
 * `reapplyOverwrittenContainers`); written by Istio itself, but a pod may carry it from the start.
 */
export const PROXY_OVERRIDES = 'proxy.istio.io/overrides';
/** Pod label (and deprecated annotation) `"true"`/`"false"` (istio-facts §1.3). */
export const SIDECAR_INJECT = 'sidecar.istio.io/inject';
/** Comma list of injection templates; `gateway` marks a gateway pod (istio-facts, design note 2). */
export const INJECT_TEMPLATES = 'inject.istio.io/templates';

/** Namespace labels that turn on sidecar injection (istio-facts §2.1). */
export const ISTIO_INJECTION = 'istio-injection';
export const ISTIO_REV = 'istio.io/rev';
/** Namespace/pod label for ambient mode (istio-facts §2.2). */
export const DATAPLANE_MODE = 'istio.io/dataplane-mode';

/** The proxy container Istio injects (in `containers`, or in `initContainers` when native). */
export const ISTIO_PROXY_CONTAINER = 'istio-proxy';
export const ISTIO_INIT_CONTAINER = 'istio-init';

/** sidecar-guard's own keys. */
export const PROFILE = 'sidecar-guard.io/profile';
export const APPLIED_PROFILE = 'sidecar-guard.io/applied-profile';
/** On a Namespace (admins set it): the profiles its workloads may ask for, comma-separated. */
export const ALLOWED_PROFILES = 'sidecar-guard.io/allowed-profiles';
export const EXEMPT = 'sidecar-guard.io/exempt';
export const EXEMPT_REASON = 'sidecar-guard.io/exempt-reason';
export const EXEMPT_UNTIL = 'sidecar-guard.io/exempt-until';
export const MODE_LABEL = 'sidecar-guard.io/mode';
