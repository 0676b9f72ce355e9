import { toManifestYaml } from '../kube/manifest-yaml.js';
import { formatBytes } from '../policy/memory-model.js';
import { renderTable } from '../cli/table.js';
import type { CalibrationFit } from './calibrate-model.js';
import type { OutputFormat } from './render-recommendations.js';

const exact = (bytes: number): string => `${bytes} (${formatBytes(bytes)})`;

/** The fitted model as `sizing.model` config (yaml), the fit (json), or both as a table with its errors. */
export function renderCalibration(fit: CalibrationFit, warnings: readonly string[], signal: string, format: OutputFormat): string {
  const model = { baseBytes: fit.model.baseBytes, perClusterBytes: fit.model.perClusterBytes, perEndpointBytes: fit.model.perEndpointBytes };
  if (format === 'json') return `${JSON.stringify({ ...fit, signal, warnings }, null, 2)}\n`;
  const quality = `${fit.samples} proxies, memory from ${signal}; RMSE ${formatBytes(fit.rmseBytes)}, largest error ${Math.round(fit.maxRelativeError * 100)}%${
    fit.r2 === undefined ? '' : `, R² ${fit.r2.toFixed(3)}`
  }${fit.fittedEndpoints ? '' : '; perEndpointBytes held at the given value (no endpoint counts in the input)'}`;
  const notes = warnings.map((w) => `# warning: ${w}\n`).join('');
  if (format === 'yaml') return `# fitted by sidecar-guard recommend calibrate: ${quality}\n${notes}${toManifestYaml({ sizing: { model } })}`;
  const table = renderTable(
    ['COEFFICIENT', 'FITTED', 'DEFAULT SOURCE'],
    [
      ['baseBytes', exact(model.baseBytes), 'istio/istio#18954'],
      ['perClusterBytes', exact(model.perClusterBytes), 'Envoy stats_integration_test'],
      ['perEndpointBytes', exact(model.perEndpointBytes), fit.fittedEndpoints ? 'Envoy stats_integration_test' : 'held (not fitted)'],
    ],
  );
  return `${table}\n${quality}\n${warnings.map((w) => `warning: ${w}\n`).join('')}`;
}
