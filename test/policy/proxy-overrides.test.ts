/**
 * proxy.istio.io/overrides read as Istio's injector reads it (Go encoding/json into
 * {containers, initContainers []corev1.Container}), and held to the same ceilings as a declared
 * istio-proxy, for pods and for the pod templates of workload controllers.
 */
import t from 'tap';
import { toJsonPatch } from '../../src/admission/patch.js';
import { BUILT_IN_CONFIG, resolveConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/types.js';
import { applyMode } from '../../src/policy/enforcement.js';
import { evaluateMutation } from '../../src/policy/mutate.js';
import { foldKey, readProxyOverrides } from '../../src/policy/proxy-overrides.js';
import { evaluateValidation } from '../../src/policy/validate.js';
import { applyJsonPatch } from '../support/apply-patch.js';
import { CONTROLLER_KINDS, MESH_NS, NOW, SCOPING, controller, facts, injectedPod, input, pod, type Json } from '../support/builders.js';

const OVERRIDES = 'proxy.istio.io/overrides';
const scoped = facts({ namespace: MESH_NS, sidecars: [SCOPING] });
const validate = (object: Json, c: Config = BUILT_IN_CONFIG) => applyMode(evaluateValidation(input(object), scoped, c, NOW));
const mutate = (object: Json) => {
  const outcome = applyMode(evaluateMutation(input(object), scoped, BUILT_IN_CONFIG, NOW));
  const patch = outcome.changes ? toJsonPatch(object, outcome.changes) : [];
  return { outcome, patch, result: applyJsonPatch(object, patch) as { metadata: { annotations: Record<string, string> } } };
};
const proxyOverride = (resources: Json, list = 'containers') => JSON.stringify({ [list]: [{ name: 'istio-proxy', resources }] });
const withOverrides = (value: string, extra: Record<string, string> = {}) => pod({ name: 'web', annotations: { [OVERRIDES]: value, ...extra } });

t.test('Go field matching: ASCII case and the runes that fold into ASCII letters', async (t) => {
  t.equal(foldKey('initContainers'), foldKey('INITCONTAINERS'));
  t.equal(foldKey('containerſ'), foldKey('containers'), 'long s folds to s');
  t.equal(foldKey('\u212Aey'), foldKey('key'), 'the Kelvin sign folds to k');
  t.not(foldKey('contaıners'), foldKey('containers'), 'dotless i does not fold to i in Go');
});

t.test('what the reader returns', async (t) => {
  t.same(readProxyOverrides(undefined), { valid: true, proxies: [] });
  t.same(readProxyOverrides('null'), { valid: true, proxies: [] }, 'Go decodes null into the empty struct');
  const both = readProxyOverrides(
    JSON.stringify({
      containers: [{ name: 'app', resources: { limits: { memory: '1Gi' } } }, null, { name: 'istio-proxy', resources: { limits: { memory: 1073741824, cpu: null } } }],
      initContainers: [{ name: 'istio-proxy', resources: { requests: { cpu: ' 2 ' } } }],
      unknownField: { anything: true },
    }),
  );
  t.same(both, {
    valid: true,
    proxies: [
      { list: 'containers', index: 2, resources: { limits: { memory: '1073741824', cpu: '0' } } },
      { list: 'initContainers', index: 0, resources: { requests: { cpu: '2' } } },
    ],
  });
  const folded = readProxyOverrides('{"Containers":[{"NAME":"istio-proxy","Resources":{"Limits":{"memory":"64Gi"}}}]}');
  t.same(folded, { valid: true, proxies: [{ list: 'containers', index: 0, resources: { limits: { memory: '64Gi' } } }] });
  t.same(readProxyOverrides('{"contaıners":[{"name":"istio-proxy"}]}'), { valid: true, proxies: [] }, 'a key Go does not match is ignored, as Go ignores it');
});

t.test('annotations Istio cannot decode, or that decode other than they look, are refused', async (t) => {
  const cases: [string, string | RegExp, string][] = [
    ['{"containers":', /not JSON/, 'undecodable'],
    ['[]', /not a JSON object/, 'undecodable'],
    ['"x"', /not a JSON object/, 'undecodable'],
    ['{"containers":{}}', /"containers" must be a list/, 'undecodable'],
    ['{"initContainers":[5]}', /initContainers\[0\] must be a container object/, 'undecodable'],
    ['{"containers":[{"name":7}]}', /containers\[0\]\.name must be a string/, 'undecodable'],
    ['{"containers":[{"name":"istio-proxy","resources":[]}]}', /resources must be an object/, 'undecodable'],
    ['{"containers":[{"name":"istio-proxy","resources":{"limits":{"memory":true}}}]}', /limits\.memory must be a quantity/, 'undecodable'],
    ['{"containers":[{"name":"app","resources":{"limits":"big"}}]}', /containers\[0\]\.resources\.limits must be an object/, 'undecodable'],
    // Go reuses the first list's element for the second: istio-proxy ends up with 64Gi.
    ['{"containers":[{"name":"x","resources":{"limits":{"memory":"64Gi"}}}],"containers":[{"name":"istio-proxy"}]}', /repeats the key "containers"/, 'repeated-key'],
    ['{"containers":[{"name":"istio-proxy","resources":{"limits":{"memory":"64Gi"}}}],"Containers":[]}', /repeats the key "Containers"/, 'repeated-key'],
    ['{"containers":[{"name":"istio-proxy","resources":{"limits":{"memory":"64Gi"},"Limits":{}}}]}', /repeats the key "Limits"/, 'repeated-key'],
  ];
  for (const [value, problem, kind] of cases) {
    const read = readProxyOverrides(value);
    t.equal(read.valid, false, value);
    if (read.valid) continue;
    t.match(read.problem, problem, value);
    t.equal(read.kind, kind, value);
  }
  const escaped = readProxyOverrides('{"containers":[],"cont\\u0061iners":[]}');
  t.match(escaped, { valid: false, kind: 'repeated-key', problem: /"containers"/ }, 'keys are compared after their escapes are decoded, as Go does');
  t.same(readProxyOverrides('{"a":"{\\"a\\":1,\\"a\\":2}","b":{"a":1},"c":[{"a":1},{"a":2}]}'), { valid: true, proxies: [] }, 'equal keys in different objects, and keys inside strings, are not repeats');
  const outsized = readProxyOverrides(JSON.stringify({ containers: [{ name: 'app', image: 'x'.repeat(256 * 1024) }] }));
  t.match(outsized, { valid: false, kind: 'too-large' }, 'longer than Kubernetes allows all annotations together');
});

t.test('an istio-proxy in the overrides is held to the ceilings: pods', async (t) => {
  const huge = validate(withOverrides(proxyOverride({ limits: { memory: '64Gi' } })));
  t.same([huge.allowed, huge.code], [false, 'ABOVE_CEILING']);
  t.match(huge.status?.message, "proxy.istio.io/overrides containers[0] (istio-proxy) resources.limits.memory=64Gi is above the profile's ceiling maxMemoryLimit=512Mi: lower it, or ask for a larger profile");

  const native = validate(withOverrides(proxyOverride({ requests: { cpu: '8' } }, 'initContainers')));
  t.same([native.allowed, native.code], [false, 'ABOVE_CEILING'], 'an initContainers entry (native sidecar) too');
  t.match(native.status?.message, /initContainers\[0\].*maxCpu=2000m/);

  const folded = validate(withOverrides('{"Containers":[{"Name":"istio-proxy","RESOURCES":{"limits":{"memory":"64Gi"}}}]}'));
  t.equal(folded.code, 'ABOVE_CEILING', 'keys spelled as Go still matches them');

  // The final container looks right, the overrides do not: both are what the proxy gets.
  const injected = injectedPod({ name: 'web', annotations: { [OVERRIDES]: proxyOverride({ limits: { memory: '64Gi' } }) } });
  const proxy = (injected.spec as { containers: Json[] }).containers[1] as { resources: Json };
  proxy.resources = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1000m', memory: '256Mi' } };
  t.equal(validate(injected).code, 'ABOVE_CEILING', 'on an injected pod too');

  t.equal(validate(withOverrides(proxyOverride({ limits: { memory: 'lots' } }))).code, 'INVALID_QUANTITY');
  const aboveLimit = validate(withOverrides(proxyOverride({ requests: { memory: '400Mi' } })));
  t.equal(aboveLimit.code, 'REQUEST_ABOVE_LIMIT', 'the override request meets the limit the pod gets');

  const fine = validate(withOverrides(proxyOverride({ limits: { memory: '300Mi' } })));
  t.same([fine.allowed, fine.code], [true, 'SCOPED'], 'an override under the ceiling passes');
  t.equal(validate(withOverrides(JSON.stringify({ containers: [{ name: 'app', resources: { limits: { memory: '64Gi' } } }] }))).allowed, true, 'other containers are not the proxy');
  const large = (memory: string) => withOverrides(proxyOverride({ limits: { memory } }), { 'sidecar-guard.io/profile': 'large' });
  t.equal(validate(large('2Gi')).allowed, true, 'the large profile has no ceiling of its own');
  const global = validate(large('3Gi'));
  t.same([global.allowed, global.code], [false, 'ABOVE_CEILING'], 'the global tenancy ceiling applies too');
  t.match(global.status?.message, 'maxMemoryLimit=2Gi');
});

t.test('an istio-proxy in the overrides is held to the ceilings: pod templates of every controller', async (t) => {
  for (const kind of CONTROLLER_KINDS) {
    const denied = validate(controller(kind, 'web', withOverrides(proxyOverride({ limits: { memory: '64Gi' } })), 'shop'));
    t.same([denied.allowed, denied.code], [false, 'ABOVE_CEILING'], kind);
    t.match(denied.status?.message, `${kind} "web": proxy.istio.io/overrides containers[0]`);
    const bad = validate(controller(kind, 'web', withOverrides('{"containers":{}}'), 'shop'));
    t.same([bad.allowed, bad.code], [false, 'INVALID_PROXY_OVERRIDES'], `${kind}: a shape Istio cannot decode`);
  }
});

t.test('an unusable annotation is a clear finding: denied in enforce, a warning in audit', async (t) => {
  const denied = validate(withOverrides('{"containers":[{"name":"istio-proxy","resources":{"limits":{"memory":true}}}]}'));
  t.same([denied.allowed, denied.code], [false, 'INVALID_PROXY_OVERRIDES']);
  t.match(denied.status?.message, /proxy\.istio\.io\/overrides cannot be used: containers\[0\]\.resources\.limits\.memory must be a quantity string/);
  t.match(denied.status?.message, /refuses the pod/);
  const repeated = validate(withOverrides('{"containers":[{"name":"x","resources":{"limits":{"memory":"64Gi"}}}],"containers":[{"name":"istio-proxy"}]}'));
  t.same([repeated.allowed, repeated.code], [false, 'INVALID_PROXY_OVERRIDES'], 'what Go would merge into istio-proxy is not let through');
  t.match(repeated.status?.message, /cannot be held to the ceilings/);
  const audit = validate(withOverrides('not json'), resolveConfig({ mode: 'audit' }));
  t.equal(audit.allowed, true);
  t.match(audit.warnings.join('\n'), /\[audit\] enforce would deny: proxy\.istio\.io\/overrides: it is not JSON/);
  t.equal(validate(withOverrides('null')).allowed, true, 'null is what Go reads as no overrides');
});

t.test('mutation keeps the override as the pod\'s own value and never touches the annotation', async (t) => {
  const value = proxyOverride({ limits: { memory: '300Mi' } });
  const declared = { name: 'istio-proxy', image: 'auto', resources: { limits: { memory: '200Mi' } } };
  const object = pod({ name: 'web', annotations: { [OVERRIDES]: value }, containers: [{ name: 'app', image: 'app' }, declared] });
  const { outcome, patch, result } = mutate(object);
  t.equal(outcome.verdict, 'patched');
  t.equal(result.metadata.annotations[OVERRIDES], value, 'the annotation is byte for byte what the pod sent');
  t.notOk(patch.some((op) => op.path.includes('overrides') || op.path === '/metadata/annotations'), 'no operation addresses it');
  t.equal(result.metadata.annotations['sidecar.istio.io/proxyMemoryLimit'], '300Mi', 'the override wins over the declared container, as in Istio');
  t.equal(mutate(withOverrides(proxyOverride({ limits: { memory: '64Gi' } }))).outcome.code, 'ABOVE_CEILING', 'and an oversized one is refused at mutation too');
});
