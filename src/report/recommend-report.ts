import { toManifestYaml } from '../kube/manifest-yaml.js';
import { describeBytes } from '../recommend/memory-quantity.js';
import type { ProfileRecommendation } from '../recommend/recommend-profiles.js';
import { toSidecarManifest, type ScopeRecommendation } from '../recommend/recommend-scope.js';
import { verificationCells, verificationLines, type VerifiedScope } from '../recommend/render-recommendations.js';
import { renderPage, type Section } from './html.js';

const bytes = (value: number | undefined): string => (value === undefined ? '-' : describeBytes(value));

/** Namespaces by the memory requests the recommendation frees (all pods), most first. */
export function namespacesBySaving(rec: ProfileRecommendation): { namespace: string; saved: number; workloads: number }[] {
  const totals = new Map<string, { saved: number; workloads: number }>();
  for (const w of rec.workloads) {
    const entry = totals.get(w.namespace) ?? { saved: 0, workloads: 0 };
    totals.set(w.namespace, { saved: entry.saved + (w.savedRequest ?? 0), workloads: entry.workloads + 1 });
  }
  return [...totals].map(([namespace, t]) => ({ namespace, ...t })).sort((a, b) => b.saved - a.saved || a.namespace.localeCompare(b.namespace));
}

/** `recommend profiles --html`: observed proxy memory against each workload's profile, and the profile table. */
export function profilesReport(rec: ProfileRecommendation, generated: Date): string {
  const names = rec.workloads.map((w) => `${w.namespace}/${w.workload}`);
  const ranked = namespacesBySaving(rec);
  const sections: Section[] = [
    {
      kind: 'chart',
      id: 'memory-by-workload',
      title: 'istio-proxy memory per workload: observed against the recommended profile',
      categories: names,
      series: [
        { name: 'observed P90', values: rec.workloads.map((w) => w.p90) },
        { name: 'observed peak', values: rec.workloads.map((w) => w.peak) },
        { name: 'profile request', values: rec.workloads.map((w) => w.profileMemory) },
        { name: 'profile limit', values: rec.workloads.map((w) => w.profileMemoryLimit) },
        { name: 'current limit', values: rec.workloads.map((w) => w.currentLimit) },
      ],
      format: describeBytes,
    },
    {
      kind: 'table',
      title: 'Workloads',
      head: ['workload', 'pods', 'P90', 'peak', 'OOM kills', 'current request/limit', 'recommended', 'profile (request/limit)', 'saved request (all pods)'],
      rows: rec.workloads.map((w) => [
        `${w.namespace}/${w.workload}`,
        String(w.pods),
        bytes(w.p90),
        bytes(w.peak),
        String(w.oomKills),
        `${bytes(w.currentRequest)}/${bytes(w.currentLimit)}`,
        bytes(w.recommended),
        `${w.profile} (${bytes(w.profileMemory)}/${bytes(w.profileMemoryLimit)})`,
        bytes(w.savedRequest),
      ]),
    },
    {
      kind: 'chart',
      id: 'namespaces-ranked',
      title: 'Namespaces ranked by the memory requests the profiles free',
      categories: ranked.map((n) => n.namespace),
      series: [{ name: 'saved request', values: ranked.map((n) => n.saved) }],
      format: describeBytes,
    },
  ];
  if (rec.config) sections.push({ kind: 'code', title: 'Profile table for serve --config', blocks: [{ label: 'config.yaml', text: toManifestYaml(rec.config.document) }] });
  if (rec.skipped.length > 0) sections.push({ kind: 'table', title: 'Skipped', head: ['workload', 'why'], rows: rec.skipped.map((s) => [`${s.namespace}/${s.workload}`, s.reason]) });
  return renderPage('sidecar-guard: proxy memory profiles', `Generated ${generated.toISOString()} by sidecar-guard recommend profiles`, sections);
}

/**
 * `recommend scope --html`: namespaces ranked by the clusters a Sidecar stops pushing, and the Sidecars to apply;
 * with verifications (same order as `recs`), what each Sidecar would cut, the window and confidence, and the
 * predicted memory before and after.
 */
export function scopeReport(recs: readonly ScopeRecommendation[], generated: Date, verified?: readonly VerifiedScope[]): string {
  const checks = new Map(recs.map((r, i) => [r, verified?.[i]]));
  const ranked = [...recs].sort((a, b) => b.removedClusters - a.removedClusters || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  const label = (r: ScopeRecommendation) => (r.workload ? `${r.namespace}/${r.workload}` : r.namespace);
  const verificationHead = verified ? ['cuts', 'confidence', 'predicted memory (busiest proxy)'] : [];
  const cellsOf = (r: ScopeRecommendation): string[] => {
    const check = checks.get(r);
    return check ? verificationCells(check) : [];
  };
  const sections: Section[] = [
    {
      kind: 'chart',
      id: 'namespaces-ranked',
      title: 'Namespaces ranked by what scoping them saves: outbound clusters per proxy, before and after the Sidecar',
      categories: ranked.map(label),
      series: [
        { name: 'clusters now', values: ranked.map((r) => r.clustersBefore) },
        { name: 'clusters with the Sidecar', values: ranked.map((r) => r.clustersAfter) },
      ],
      format: (v) => String(v),
    },
    {
      kind: 'table',
      title: 'Suggested Sidecars',
      head: ['namespace', 'Sidecar', 'proxies', 'clusters now', 'after', 'no longer pushed', 'egress hosts', ...verificationHead],
      rows: ranked.map((r) => [r.namespace, r.name, String(r.proxies), String(r.clustersBefore), String(r.clustersAfter), String(r.removedClusters), r.hosts.join(', '), ...cellsOf(r)]),
    },
  ];
  if (verified) {
    sections.push({
      kind: 'table',
      title: 'Verified against the observed traffic: cuts, window, confidence, predicted memory',
      head: ['Sidecar', 'finding'],
      rows: ranked.flatMap((r) => {
        const check = checks.get(r);
        return check ? verificationLines(r, check).map((line) => [`${r.namespace}/${r.name}`, line]) : [];
      }),
    });
  }
  sections.push({ kind: 'code', title: 'Sidecars to apply (kubectl apply -f -)', blocks: ranked.map((r) => ({ label: `${r.namespace}/${r.name}`, text: toManifestYaml(toSidecarManifest(r)) })) });
  return renderPage('sidecar-guard: Sidecar scopes', `Generated ${generated.toISOString()} by sidecar-guard recommend scope`, sections);
}
