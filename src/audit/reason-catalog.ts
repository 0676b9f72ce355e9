/**
 * Every reason code a user can meet, with what it means and what to do: the README's reason-code
 * table as data, for the rules of `audit -o sarif` and the JUnit messages. test/audit/reason-catalog.test.ts
 * keeps the two equal, so a change to one is a change to both.
 */
export interface ReasonEntry {
  readonly codes: readonly string[];
  /** As the README's "kind" column says it: deny, warning, pass, … */
  readonly kind: string;
  readonly meaning: string;
  readonly action: string;
}

export const REASON_CATALOG: readonly ReasonEntry[] = [
  { codes: ['MISSING_SIDECAR'], kind: "deny", meaning: "a mesh workload's namespace has no Sidecar that applies to it", action: "apply the Sidecar in the message (`audit --fix` prints them), or exempt the namespace" },
  { codes: ['SIDECAR_NOT_SCOPING'], kind: "deny", meaning: "the Sidecar that applies declares no egress or imports the whole mesh (`*/*`)", action: "give it egress hosts such as `./*`, `istio-system/*`" },
  { codes: ['ROOT_DEFAULT_NOT_ACCEPTED'], kind: "deny", meaning: "only the root namespace's Sidecar would apply, and `scope.acceptRootNamespaceDefault` is false", action: "add a Sidecar in the namespace, or set `acceptRootNamespaceDefault: true`" },
  { codes: ['SIDECAR_WILDCARD_EGRESS'], kind: "deny", meaning: "a Sidecar with an egress host that imports the whole mesh (`*/*`, `*/*.svc.cluster.local`, …)", action: "name the namespaces it calls (`./*`, `other-ns/*`)" },
  { codes: ['SIDECAR_NO_EGRESS'], kind: "deny", meaning: "a Sidecar with no egress hosts (Istio's default egress is `*/*`)", action: "add `egress: [{hosts: [...]}]`" },
  { codes: ['DUPLICATE_NAMESPACE_SIDECAR'], kind: "deny", meaning: "a second selector-less Sidecar in a namespace (Istio: undefined, IST0111)", action: "merge them, or give one a `workloadSelector`" },
  { codes: ['LAST_SCOPING_SIDECAR'], kind: "deny", meaning: "deleting (or re-selecting) the Sidecar would leave the namespace unscoped", action: "apply the replacement first" },
  { codes: ['SIDECAR_UNSCOPES_OPTED_IN_PODS'], kind: "deny", meaning: "in a namespace without an injection label, the Sidecar change would leave pods that opted in on their own (named) unscoped", action: "keep a scoping Sidecar over them (apply the new one first), or delete those pods first" },
  { codes: ['UNKNOWN_PROFILE'], kind: "deny (enforce)", meaning: "the pod or namespace names a profile the config does not have", action: "use one of the profiles in the message" },
  { codes: ['PROFILE_NOT_ALLOWED'], kind: "deny", meaning: "a workload asks for a profile it may not pick (`tenancy.workloadProfiles`, the namespace's `sidecar-guard.io/allowed-profiles`)", action: "ask for an allowed one, or have an admin allow it" },
  { codes: ['ABOVE_CEILING'], kind: "deny", meaning: "a proxy value the pod sets is above the profile's `max*` or a tenancy ceiling", action: "lower the value, or pick a larger profile" },
  { codes: ['INVALID_QUANTITY'], kind: "deny", meaning: "a proxy annotation is not a Kubernetes quantity", action: "write e.g. `128Mi`, `100m`" },
  { codes: ['REQUEST_ABOVE_LIMIT'], kind: "deny", meaning: "the pod's proxy request is above its limit", action: "lower the request or raise the limit" },
  { codes: ['INVALID_PROXY_OVERRIDES'], kind: "deny", meaning: "the pod's `proxy.istio.io/overrides` annotation is not what Istio can decode (not JSON of `{containers, initContainers}`, a repeated key, over 256 KiB)", action: "fix or remove the annotation" },
  { codes: ['RELABEL_UNSCOPED'], kind: "deny (warning in audit)", meaning: "a label change would take a running pod with `istio-proxy` out of every scoping Sidecar", action: "apply a Sidecar that selects the new labels first, or keep the labels" },
  { codes: ['OPT_IN_LABEL_REMOVED'], kind: "deny (warning in audit)", meaning: "in a namespace without an injection label, a label change would drop the last opt-in label (`sidecar.istio.io/inject`, `istio.io/rev`) of a pod running `istio-proxy`", action: "keep the label (any value), or recreate the pod without it" },
  { codes: ['PREDICTED_MEMORY_ABOVE_LIMIT'], kind: "warning", meaning: "the memory limit the workload's `istio-proxy` gets is below its predicted memory plus `sizing.marginPercent` (the numbers are in the warning)", action: "narrow its Sidecar to what it calls, or pick a larger profile; calibrate `sizing.model` if the prediction is off" },
  { codes: ['SIDECAR_WIDENS_IMPORTS'], kind: "warning", meaning: "a new or changed Sidecar makes its workloads import more; the warning gives services, clusters, endpoints and memory per proxy before → after", action: "nothing, if intended" },
  { codes: ['SIDECAR_PREDICTED_ABOVE_LIMIT'], kind: "warning (deny in enforce with `sizing.onSidecarOverLimit: deny`)", meaning: "after the change, the workloads' predicted memory is above the limit of the profile they get by default", action: "list only what they call, or give them a larger profile first" },
  { codes: ['CLUSTER_VIEW_NOT_SYNCED'], kind: "warning (deny with `cluster.whenUnsynced: deny`)", meaning: "the webhook's view of Namespaces and Sidecars is not synced yet", action: "wait; check `/readyz` and the watch metrics" },
  { codes: ['SCOPED', 'SIZED', 'SIDECAR_OK'], kind: "pass", meaning: "scoped by a Sidecar; sized by a profile; a Sidecar change that keeps pods scoped", action: "nothing" },
  { codes: ['GATEWAY'], kind: "pass", meaning: "a gateway pod (a Sidecar does not apply to gateways)", action: "nothing" },
  { codes: ['GATEWAY_NOT_RECOGNISED'], kind: "warning", meaning: "shaped like a gateway outside `tenancy.gatewayNamespaces`: checked as a workload", action: "move it, or list the namespace" },
  { codes: ['EXEMPT'], kind: "pass", meaning: "an honoured exemption", action: "remove it when it ends" },
  { codes: ['EXEMPTION_NO_REASON', 'EXEMPTION_INVALID', 'EXEMPTION_EXPIRED', 'EXEMPTION_TOO_LONG', 'EXEMPTION_NO_EXPIRY', 'EXEMPTION_NOT_ALLOWED'], kind: "warning, exemption refused", meaning: "no `exempt-reason`; an unknown kind or date; expired; beyond `exceptions.maxDays`; no expiry where required; not allowed on workloads", action: "fix the annotation as the message says" },
  { codes: ['NOT_IN_MESH', 'POD_OPTED_OUT', 'HOST_NETWORK', 'IGNORED_NAMESPACE', 'AMBIENT'], kind: "pass", meaning: "Istio will not inject this pod", action: "nothing" },
  { codes: ['MODE_OFF'], kind: "pass", meaning: "`mode: off` (global or the namespace's `sidecar-guard.io/mode`)", action: "nothing" },
  { codes: ['INVALID_MODE_LABEL'], kind: "warning", meaning: "the namespace's `sidecar-guard.io/mode` is not `enforce`, `audit` or `off`; the global mode applies", action: "fix the label" },
  { codes: ['SUBRESOURCE', 'POD_UPDATE', 'BEING_DELETED', 'OPERATION_NOT_CHECKED', 'NOT_APPLICABLE', 'NO_POD_TEMPLATE'], kind: "pass", meaning: "not something the webhook checks (a subresource, a pod update, a deletion, another operation or kind, a controller without a pod template)", action: "nothing" },
  { codes: ['UNKNOWN_NAMESPACE'], kind: "`audit` only (exit 4)", meaning: "the namespace is not among the inputs, so mesh membership is unknown", action: "`--namespace-label NS=istio-injection=enabled`, the Namespace object, or `--cluster`" },
  { codes: ['NAMESPACE_INJECTION', 'NAMESPACE_REVISION', 'POD_OPTED_IN', 'POD_REVISION', 'ALREADY_INJECTED'], kind: "`audit` `membership`", meaning: "why a workload is in the mesh", action: "nothing" },
];

const BY_CODE = new Map(REASON_CATALOG.flatMap((entry) => entry.codes.map((code) => [code, entry] as const)));

/** The catalog entry of a code; undefined for a code the table does not have (a bug the test catches). */
export function reasonFor(code: string): ReasonEntry | undefined {
  return BY_CODE.get(code);
}
