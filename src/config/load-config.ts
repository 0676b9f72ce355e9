import { Ajv, type ErrorObject } from 'ajv';
import { parse } from 'yaml';
import { ConfigError } from '../errors.js';
import { compareQuantities } from '../policy/quantity.js';
import { isMeshWideHost } from '../policy/sidecar-scope.js';
import { configSchema, PATTERN_MEANING } from './config-schema.js';
import { DEFAULT_CONFIG } from './defaults.js';
import type { Ceilings, Config, Profile } from './types.js';

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
const validateConfigShape = ajv.compile(configSchema);

/** `/rules/0/match` as `rules[0].match`, the way the YAML reads. */
function pathOf(instancePath: string): string {
  return instancePath
    .split('/')
    .filter((part) => part !== '')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  object: 'a map of settings (key: value)',
  array: 'a list ([a, b] or one "- item" per line)',
  string: 'a string',
  boolean: 'true or false',
  integer: 'a whole number',
  number: 'a number',
};

function fieldOf(error: ErrorObject): string {
  const path = pathOf(error.instancePath);
  if (error.keyword === 'additionalProperties') {
    const extra = String(error.params.additionalProperty);
    return path ? `${path}.${extra}` : extra;
  }
  if (error.keyword === 'required') return path ? `${path}.${String(error.params.missingProperty)}` : String(error.params.missingProperty);
  return path || '(top level)';
}

const KNOWN_SETTINGS = Object.keys(configSchema.properties).join(', ');

function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return error.instancePath === '' ? `is not a known setting: check the spelling (the settings are ${KNOWN_SETTINGS})` : 'is not a known setting here: check the spelling and the indentation (see the configuration reference in the README)';
    case 'required':
      return 'is required: add it';
    case 'pattern':
      return PATTERN_MEANING[String(params.pattern)] ?? `must match ${String(params.pattern)}`;
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'type':
      return error.instancePath === '' ? 'must be a map of settings (mode, profiles, rules, …), not a single value or a list' : `must be ${TYPE_WORDS[String(params.type)] ?? String(params.type)}`;
    case 'minProperties':
      return `must not be empty: give at least one entry, or leave the key out for the default`;
    case 'minItems':
      return `must not be an empty list: give at least one item, or leave the key out for the default`;
    case 'minLength':
      return 'must not be empty';
    case 'minimum':
      return `must be at least ${String(params.limit)}`;
    case 'uniqueItems':
      return 'lists an item twice: remove the repeat';
    default:
      return error.message ?? 'is invalid';
  }
}

const CEILING_OF: readonly [keyof Profile, keyof Ceilings][] = [
  ['cpu', 'maxCpu'],
  ['cpuLimit', 'maxCpuLimit'],
  ['memory', 'maxMemory'],
  ['memoryLimit', 'maxMemoryLimit'],
];

function checkTenancy(config: Config): void {
  const names = Object.keys(config.profiles);
  config.tenancy.workloadProfiles?.forEach((name, index) => {
    if (!Object.hasOwn(config.profiles, name)) throw new ConfigError(`tenancy.workloadProfiles[${index}] "${name}" is not one of the profiles (${names.join(', ')}): name one of them, or add "${name}" under profiles`);
  });
  for (const [name, profile] of Object.entries(config.profiles)) {
    for (const [key, ceilingKey] of CEILING_OF) {
      const ceiling = config.tenancy.ceilings[ceilingKey];
      if (ceiling !== undefined && compareQuantities(profile[key] ?? '0', ceiling) > 0) {
        throw new ConfigError(`profiles.${name}.${key} (${profile[key]}) is above tenancy.ceilings.${ceilingKey} (${ceiling}): raise the ceiling or lower the profile`);
      }
    }
  }
}

function checkProfile(name: string, profile: Profile): void {
  const pairs: [keyof Profile, keyof Profile][] = [
    ['cpu', 'cpuLimit'],
    ['memory', 'memoryLimit'],
    ['cpu', 'maxCpu'],
    ['cpuLimit', 'maxCpuLimit'],
    ['memory', 'maxMemory'],
    ['memoryLimit', 'maxMemoryLimit'],
  ];
  for (const [low, high] of pairs) {
    const lowValue = profile[low];
    const highValue = profile[high];
    if (lowValue === undefined || highValue === undefined) continue;
    if (compareQuantities(lowValue, highValue) > 0) {
      throw new ConfigError(`profiles.${name}.${low} (${lowValue}) must not exceed ${high} (${highValue}): lower ${low} or raise ${high}`);
    }
  }
}

/** YAML reads `cpu: 1` as a number; Kubernetes reads it as the quantity "1", and so do we. */
function numbersAsQuantities(document: unknown): unknown {
  const profiles = (document as { profiles?: unknown }).profiles;
  if (typeof profiles !== 'object' || profiles === null || Array.isArray(profiles)) return document;
  const normalised: Record<string, unknown> = {};
  for (const [name, profile] of Object.entries(profiles)) {
    if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) {
      normalised[name] = profile;
      continue;
    }
    normalised[name] = Object.fromEntries(
      Object.entries(profile).map(([key, value]) => [key, typeof value === 'number' && Number.isFinite(value) ? String(value) : value]),
    );
  }
  return { ...(document as object), profiles: normalised };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** A configuration and what loading it decided on the user's behalf (say so in the log). */
export interface LoadedConfig {
  readonly config: Config;
  readonly notices: readonly string[];
}

function describeRule(rule: Config['rules'][number]): string {
  return `{ profile: ${rule.profile}, match: ${JSON.stringify(rule.match).replace(/"/g, '')} }`;
}

/**
 * The rules in force: the file's own first (first match wins, so they override the built-in ones),
 * then the built-in rules (gateway pods to `gateway`, `batch-*` to `small`) unless `defaultRules: false`.
 * A built-in rule whose profile the table lacks (the file's `profiles` replace the built-in table) is
 * left out, with a notice; one the file already lists (a copy of the defaults) is not repeated.
 */
function mergeRules(file: Partial<Config> & { defaultRules?: boolean }, profiles: Config['profiles'], notices: string[]): Config['rules'] {
  const own = file.rules ?? [];
  if (file.defaultRules === false) return own;
  const listed = new Set(own.map((rule) => JSON.stringify(rule)));
  const builtIn = DEFAULT_CONFIG.rules.filter((rule) => {
    if (listed.has(JSON.stringify(rule))) return false; // a copy of the defaults is not doubled
    if (Object.hasOwn(profiles, rule.profile)) return true;
    notices.push(`built-in rule ${describeRule(rule)} left out: profiles has no "${rule.profile}" (add a "${rule.profile}" profile to keep it, or set defaultRules: false to use only your rules)`);
    return false;
  });
  return [...own, ...builtIn];
}

/**
 * Validates a parsed configuration document and fills missing sections from the defaults, with the
 * notices of what was merged how. `profiles` replaces the built-in table whole; `rules` come before
 * the built-in rules (see mergeRules); other sections merge key by key. Throws ConfigError naming the
 * key and the fix. The config is deep-frozen.
 */
function resolveConfigWithNotices(document: unknown): LoadedConfig {
  const raw = numbersAsQuantities(document ?? {});
  if (!validateConfigShape(raw)) {
    const error = validateConfigShape.errors?.[0];
    throw new ConfigError(error ? `${fieldOf(error)} ${describe(error)}` : 'configuration is invalid');
  }
  const file = raw as Partial<Config> & { defaultRules?: boolean };
  const notices: string[] = [];
  const profiles = file.profiles ?? DEFAULT_CONFIG.profiles;
  const names = Object.keys(profiles);
  const defaultProfile = file.defaultProfile ?? DEFAULT_CONFIG.defaultProfile;
  if (!Object.hasOwn(profiles, defaultProfile)) {
    const fix = file.defaultProfile === undefined ? 'set defaultProfile to one of them (your profiles replace the built-in ones, so the built-in default "medium" is gone)' : `set defaultProfile to one of them, or add "${defaultProfile}" under profiles`;
    throw new ConfigError(`defaultProfile "${defaultProfile}" is not one of the profiles (${names.join(', ')}): ${fix}`);
  }
  (file.rules ?? []).forEach((rule, index) => {
    if (!Object.hasOwn(profiles, rule.profile)) {
      throw new ConfigError(`rules[${index}].profile "${rule.profile}" is not one of the profiles (${names.join(', ')}): name one of them, or add "${rule.profile}" under profiles`);
    }
  });
  const config: Config = structuredClone({
    mode: file.mode ?? DEFAULT_CONFIG.mode,
    defaultProfile,
    profiles,
    rules: mergeRules(file, profiles, notices),
    scope: { ...DEFAULT_CONFIG.scope, ...file.scope },
    tenancy: { ...DEFAULT_CONFIG.tenancy, ...file.tenancy },
    exceptions: { ...DEFAULT_CONFIG.exceptions, ...file.exceptions },
    cluster: { ...DEFAULT_CONFIG.cluster, ...file.cluster },
    sizing: { ...DEFAULT_CONFIG.sizing, ...file.sizing, model: { ...DEFAULT_CONFIG.sizing.model, ...file.sizing?.model } },
  });
  for (const [name, profile] of Object.entries(config.profiles)) checkProfile(name, profile);
  checkTenancy(config);
  config.scope.suggestedEgressHosts.forEach((host, index) => {
    if (isMeshWideHost(host, config.scope.clusterDomain)) {
      throw new ConfigError(`scope.suggestedEgressHosts[${index}] "${host}" imports every service in the mesh, the very thing a Sidecar is for preventing: suggest hosts such as "./*" and "istio-system/*"`);
    }
  });
  return { config: deepFreeze(config), notices };
}

/**
 * resolveConfigWithNotices without the notices.
 *
 * @example resolveConfig({ mode: 'audit' }).defaultProfile // "medium"
 */
export function resolveConfig(document: unknown): Config {
  return resolveConfigWithNotices(document).config;
}

/** Parses YAML (or JSON) configuration text, with notices; `source` names the file in errors. */
export function parseConfigWithNotices(text: string, source = 'config'): LoadedConfig {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    // The yaml library ends its first line with a colon before the excerpt it quotes.
    const first = ((error as Error).message.split('\n')[0] ?? '').replace(/:\s*$/, '');
    throw new ConfigError(`${source}: not valid YAML: ${first}: fix the line it names (indentation, a missing colon or quote)`, { cause: error });
  }
  try {
    return resolveConfigWithNotices(document);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${source}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** Parses YAML (or JSON) configuration text; `source` names the file in errors. */
export function parseConfig(text: string, source = 'config'): Config {
  return parseConfigWithNotices(text, source).config;
}

/** The embedded defaults, validated like a file. */
export const BUILT_IN_CONFIG: Config = resolveConfig({});
