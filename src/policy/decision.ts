import type { Mode } from '../config/types.js';
import type { Exemption, ExemptionRefusal } from './exemptions.js';
import type { ContainerChange } from './proxy-resources.js';

export type Webhook = 'validate' | 'mutate';

/** Something the policy found: a violation (enforce denies it) or a notice (always a warning). */
export interface Finding {
  /** Stable SCREAMING_SNAKE code: it appears in metrics labels, logs and audit annotations. */
  readonly code: string;
  /** The full explanation, for the denial message (may span lines). */
  readonly message: string;
  /** One short line, for kubectl warnings. */
  readonly summary: string;
}

/** The changes the mutating webhook would make, relative to the object it was given. */
export interface PlannedChanges {
  /** Path segments from the object to the pod template (empty for a Pod). */
  readonly templatePath: readonly string[];
  readonly annotations: Readonly<Record<string, string>>;
  readonly containerChanges: readonly ContainerChange[];
}

/** What the policy concluded, before the mode decides what to do about it. */
export interface Evaluation {
  readonly webhook: Webhook;
  readonly mode: Mode;
  /** The main reason code of the outcome. */
  readonly code: string;
  readonly violations: readonly Finding[];
  readonly notices: readonly Finding[];
  readonly exemptions: readonly Exemption[];
  readonly refusals: readonly ExemptionRefusal[];
  readonly profile?: string;
  /** Why that profile: which annotation or rule chose it. */
  readonly profileReason?: string;
  readonly changes?: PlannedChanges;
  /** Predicted proxy memory against its limit, for the audit annotation `predicted-memory`. */
  readonly memory?: string;
}

export function finding(code: string, message: string, summary: string = message): Finding {
  return { code, message, summary };
}

/** True when the plan changes nothing. */
export function isEmptyChange(changes: PlannedChanges | undefined): boolean {
  if (changes === undefined) return true;
  if (changes.containerChanges.length > 0) return false;
  for (const _ in changes.annotations) return false;
  return true;
}
