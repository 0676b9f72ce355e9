/** values.schema.json and the chart's own checks: bad values fail with a message naming the field. */
import t from 'tap';
import { lint, template } from './helm.js';

const profile = { cpu: '100m', cpuLimit: '1', memory: '128Mi', memoryLimit: '256Mi' };

const BAD: [string, Record<string, unknown>, RegExp][] = [
  ['unknown mode', { config: { mode: 'strict' } }, /config\.mode must be one of the following: "enforce", "audit", "off"/],
  ['bad quantity', { config: { profiles: { small: { ...profile, memory: '64 MB' } } } }, /config\.profiles\.small\.memory: Does not match pattern/],
  ['profile missing a field', { config: { profiles: { tiny: { cpu: '10m' } } } }, /config\.profiles\.tiny: cpuLimit is required/],
  ['unknown profile field', { config: { profiles: { small: { ...profile, cpuRequest: '1' } } } }, /Additional property cpuRequest is not allowed/],
  ['rule without match', { config: { rules: [{ profile: 'small' }] } }, /config\.rules\.0: match is required/],
  ['empty rule match', { config: { rules: [{ profile: 'small', match: {} }] } }, /config\.rules\.0\.match: Must have at least 1 properties/],
  ['bad egress host', { config: { scope: { suggestedEgressHosts: ['*'] } } }, /config\.scope\.suggestedEgressHosts\.0: Does not match pattern/],
  ['bad exception target', { config: { exceptions: { allowOn: ['pod'] } } }, /config\.exceptions\.allowOn\.0 must be one of the following: "namespace", "workload"/],
  ['bad whenUnsynced', { config: { cluster: { whenUnsynced: 'maybe' } } }, /config\.cluster\.whenUnsynced must be one of the following: "allow", "deny"/],
  ['timeout too long', { webhook: { timeoutSeconds: 31 } }, /webhook\.timeoutSeconds: Must be less than or equal to 30/],
  ['timeout zero', { webhook: { timeoutSeconds: 0 } }, /webhook\.timeoutSeconds: Must be greater than or equal to 1/],
  ['bad failurePolicy', { webhook: { validating: { failurePolicy: 'Deny' } } }, /webhook\.validating\.failurePolicy must be one of the following: "Ignore", "Fail"/],
  ['bad reinvocation', { webhook: { mutating: { reinvocationPolicy: 'Always' } } }, /webhook\.mutating\.reinvocationPolicy must be one of the following: "Never", "IfNeeded"/],
  ['bad configuration name', { webhook: { mutating: { name: '00_Sidecar_Guard' } } }, /webhook\.mutating\.name: Does not match pattern/],
  ['bad tls mode', { tls: { mode: 'vault' } }, /tls\.mode must be one of the following: "self-managed", "cert-manager", "secret"/],
  ['caBundle not base64', { tls: { mode: 'secret', secret: { name: 'x', caBundle: '-----BEGIN' } } }, /tls\.secret\.caBundle: Does not match pattern/],
  ['zero replicas', { replicaCount: 0 }, /replicaCount: Must be greater than or equal to 1/],
  ['typo at the top', { replicas: 3 }, /Additional property replicas is not allowed/],
  ['privileged container', { containerSecurityContext: { privileged: true } }, /containerSecurityContext\.privileged does not match: false/],
  ['resources without limits', { resources: { limits: null } }, /resources: limits is required|resources\.limits: Invalid type/],
  ['bad image digest', { image: { digest: 'latest' } }, /image\.digest: Does not match pattern/],
  ['unknown report API', { reports: { api: 'kyverno' } }, /reports\.api must be one of the following: "wgpolicyk8s", "openreports"/],
  ['zero report writes per second', { reports: { writesPerSecond: 0 } }, /reports\.writesPerSecond: Must be greater than or equal to 1/],
];

for (const [name, values, message] of BAD) {
  t.test(`schema refuses: ${name}`, async (t) => {
    const result = template({ values });
    t.not(result.code, 0, 'helm template fails');
    t.match(result.stderr, /values don't meet the specifications of the schema/);
    t.match(result.stderr, message);
    t.not(lint(values).code, 0, 'helm lint fails too');
  });
}

t.test('cross-field checks the schema cannot express', async (t) => {
  const badDefault = template({ values: { config: { defaultProfile: 'huge' } } });
  t.not(badDefault.code, 0);
  t.match(badDefault.stderr, 'config.defaultProfile "huge" is not one of config.profiles (gateway, large, medium, small)');
  const badRule = template({ values: { config: { rules: [{ profile: 'small', match: { gateway: false } }, { profile: 'xl', match: { gateway: true } }] } } });
  t.not(badRule.code, 0);
  t.match(badRule.stderr, 'config.rules[1].profile "xl" is not one of config.profiles');
});

t.test('good edge values pass', async (t) => {
  for (const values of [
    { config: { profiles: { small: { cpu: 0.05, cpuLimit: 1, memory: '64Mi', memoryLimit: '1e8' } } } },
    { config: { mode: 'off', rules: [] } },
    { config: { exceptions: { allowOn: ['namespace', 'workload'], requireExpiry: true, maxDays: 7 } } },
    { webhook: { timeoutSeconds: 30 }, replicaCount: 1 },
    { podDisruptionBudget: { maxUnavailable: '50%' } },
  ]) {
    const result = template({ values });
    t.equal(result.code, 0, `${JSON.stringify(values)}\n${result.stderr}`);
  }
});
