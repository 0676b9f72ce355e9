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

function fieldOf(error: ErrorObject): string {
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (error.keyword === 'additionalProperties') {
    const extra = String(error.params.additionalProperty);
    return path ? `${path}.${extra}` : extra;
  }
  if (error.keyword === 'required') return path ? `${path}.${String(error.params.missingProperty)}` : String(error.params.missingProperty);
  return path || '(top level)';
}

function describe(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return 'is not a known setting';
  if (error.keyword === 'required') return 'is required';
  if (error.keyword === 'pattern') return PATTERN_MEANING[String(error.params.pattern)] ?? `must match ${String(error.params.pattern)}`;
  if (error.keyword === 'enum') return `must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
  return error.message ?? 'is invalid';
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
    if (!Object.hasOwn(config.profiles, name)) throw new ConfigError(`tenancy.workloadProfiles[${index}] "${name}" is not one of the profiles (${names.join(', ')})`);
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
      throw new ConfigError(`profiles.${name}.${low} (${lowValue}) must not exceed ${high} (${highValue})`);
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

/**
 * Validates a parsed configuration document and fills missing sections from the defaults.
 * `profiles` and `rules`, when given, replace the defaults whole. Throws ConfigError naming
 * the field. The result is deep-frozen.
 *
 * @example resolveConfig({ mode: 'audit' }).defaultProfile // "medium"
 */
export function resolveConfig(document: unknown): Config {
  const raw = numbersAsQuantities(document ?? {});
  if (!validateConfigShape(raw)) {
    const error = validateConfigShape.errors?.[0];
    throw new ConfigError(error ? `${fieldOf(error)} ${describe(error)}` : 'configuration is invalid');
  }
  const file = raw as Partial<Config>;
  const config: Config = structuredClone({
    mode: file.mode ?? DEFAULT_CONFIG.mode,
    defaultProfile: file.defaultProfile ?? DEFAULT_CONFIG.defaultProfile,
    profiles: file.profiles ?? DEFAULT_CONFIG.profiles,
    rules: file.rules ?? DEFAULT_CONFIG.rules,
    scope: { ...DEFAULT_CONFIG.scope, ...file.scope },
    tenancy: { ...DEFAULT_CONFIG.tenancy, ...file.tenancy },
    exceptions: { ...DEFAULT_CONFIG.exceptions, ...file.exceptions },
    cluster: { ...DEFAULT_CONFIG.cluster, ...file.cluster },
    sizing: { ...DEFAULT_CONFIG.sizing, ...file.sizing, model: { ...DEFAULT_CONFIG.sizing.model, ...file.sizing?.model } },
  });
  const names = Object.keys(config.profiles);
  if (!Object.hasOwn(config.profiles, config.defaultProfile)) {
    throw new ConfigError(`defaultProfile "${config.defaultProfile}" is not one of the profiles (${names.join(', ')})`);
  }
  config.rules.forEach((rule, index) => {
    if (!Object.hasOwn(config.profiles, rule.profile)) {
      throw new ConfigError(`rules[${index}].profile "${rule.profile}" is not one of the profiles (${names.join(', ')})`);
    }
  });
  for (const [name, profile] of Object.entries(config.profiles)) checkProfile(name, profile);
  checkTenancy(config);
  config.scope.suggestedEgressHosts.forEach((host, index) => {
    if (isMeshWideHost(host, config.scope.clusterDomain)) {
      throw new ConfigError(`scope.suggestedEgressHosts[${index}] "${host}" imports every service in the mesh, the very thing a Sidecar is for preventing: suggest hosts such as "./*" and "istio-system/*"`);
    }
  });
  return deepFreeze(config);
}

/** Parses YAML (or JSON) configuration text; `source` names the file in errors. */
export function parseConfig(text: string, source = 'config'): Config {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new ConfigError(`${source}: not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  try {
    return resolveConfig(document);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${source}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** The embedded defaults, validated like a file. */
export const BUILT_IN_CONFIG: Config = resolveConfig({});
