/**
 * Audit inputs the CI-format tests (test/audit/sarif.test.ts, junit.test.ts) share: a Deployment in a
 * namespace the inputs do not define (not judged: UNKNOWN_NAMESPACE) and a Pod in `tools`, which is
 * outside the mesh when the inputs define `tools` without an injection label (a pass: NOT_IN_MESH).
 */
export const UNJUDGED_AND_OUTSIDE = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: cache
  namespace: elsewhere
spec:
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec: {containers: [{name: cache, image: cache}]}
---
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: tools}
spec: {containers: [{name: probe, image: probe}]}
`;
