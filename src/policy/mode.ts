import { MODES, type Config, type Mode } from '../config/types.js';
import { MODE_LABEL } from './annotations.js';
import { finding, type Finding } from './decision.js';
import type { NamespaceFacts } from './types.js';

/** The mode for a namespace: its `sidecar-guard.io/mode` label, else the config's. */
export function effectiveMode(config: Pick<Config, 'mode'>, namespace: NamespaceFacts | undefined): { mode: Mode; notice?: Finding } {
  const label = namespace?.labels[MODE_LABEL];
  if (label === undefined) return { mode: config.mode };
  if ((MODES as readonly string[]).includes(label)) return { mode: label as Mode };
  const text = `namespace label ${MODE_LABEL}="${label}" is not one of ${MODES.join(', ')}, so the configured mode ${config.mode} applies: fix or remove the label`;
  return { mode: config.mode, notice: finding('INVALID_MODE_LABEL', text) };
}
