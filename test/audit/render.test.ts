import { stripVTControlCharacters } from 'node:util';
import t from 'tap';
import type { AuditReport } from '../../src/audit/audit.js';
import { renderReport } from '../../src/audit/render.js';

const report: AuditReport = {
  namespaces: [
    { name: 'payments', inMesh: true, mode: 'enforce', sidecars: [], problems: [{ code: 'MISSING_SIDECAR', message: 'namespace "payments" has no Sidecar', sidecars: [] }] },
    { name: 'legacy', inMesh: true, mode: 'audit', scopedBy: 'legacy/default', sidecars: ['default'], problems: [], exemption: { target: 'namespace', status: 'refused', code: 'EXEMPTION_EXPIRED', message: 'the exemption expired on 2025-01-01; renew sidecar-guard.io/exempt-until or remove the exemption' } },
  ],
  workloads: [
    { kind: 'Deployment', namespace: 'payments', name: 'ledger', meshed: true, membership: 'IN_MESH', verdict: 'deny', codes: ['MISSING_SIDECAR'], findings: ['no Sidecar scopes it'], profile: 'medium', current: {}, currentSource: 'none', target: { memory: '128Mi', memoryLimit: '256Mi', cpu: '100m', cpuLimit: '1000m' }, exemptions: [{ target: 'workload', status: 'refused', code: 'EXEMPTION_NO_REASON', message: 'sidecar-guard.io/exempt-reason is missing: say why the exemption is needed' }] },
    { kind: 'Deployment', namespace: 'legacy', name: 'old-app-with-a-long-name', meshed: 'unknown', membership: 'UNKNOWN', verdict: 'unknown', codes: ['NAMESPACE_UNKNOWN'], findings: [], current: {}, currentSource: 'none', exemptions: [{ target: 'namespace', status: 'refused', code: 'EXEMPTION_EXPIRED' }] },
  ],
  summary: { namespaces: 2, meshNamespaces: 2, workloads: 2, meshWorkloads: 1, unknown: 1, denied: 1, namespaceProblems: 1 },
};

function tableLines(text: string): string[][] {
  // The two tables are the first two blocks separated by a blank line.
  return text.split('\n\n').slice(0, 2).map((block) => block.split('\n'));
}

t.test('the table output aligns with colour on, and reads the same without it', async (t) => {
  const coloured = renderReport(report, 'table', true);
  const plain = renderReport(report, 'table', false);
  t.match(coloured, /\u001b\[31m/);
  t.notMatch(plain, /\u001b/);
  t.equal(stripVTControlCharacters(coloured), plain);
  for (const lines of tableLines(coloured)) {
    const header = lines[0] ?? '';
    const starts = [...header.matchAll(/(?:^|(?<=  ))\S/g)].map((m) => m.index);
    for (const line of lines.slice(1)) {
      const visible = stripVTControlCharacters(line);
      for (const start of starts.slice(1)) t.equal(visible.slice((start ?? 0) - 2, start), '  ', `a column starts at ${start} in: ${visible}`);
    }
  }
});

t.test('a refused exemption shows its code in the table and its reason under Findings', async (t) => {
  const plain = renderReport(report, 'table', false);
  t.match(plain, /legacy\s+yes\s+audit\s+legacy\/default\s+exemption-refused\(EXEMPTION_EXPIRED\)/);
  t.match(plain, /MISSING_SIDECAR,exemption-refused\(EXEMPTION_NO_REASON\)/);
  t.match(plain, '  legacy: namespace exemption refused (EXEMPTION_EXPIRED), so it is not honoured: the exemption expired on 2025-01-01; renew sidecar-guard.io/exempt-until or remove the exemption');
  t.match(plain, '  payments/Deployment/ledger: workload exemption refused (EXEMPTION_NO_REASON), so it is not honoured: sidecar-guard.io/exempt-reason is missing: say why the exemption is needed');
  t.equal(plain.split('EXEMPTION_EXPIRED), so').length, 2, "a namespace's refusal is listed once, not under each of its workloads");
});
