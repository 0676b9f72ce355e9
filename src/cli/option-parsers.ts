import { InvalidArgumentError } from 'commander';

/**
 * A commander argument parser for an integer in [min, max]; a bad value is a usage error (exit 2)
 * that names the flag's rule and the value given.
 *
 * @example command.option('--port <n>', 'HTTPS port', integerIn(0, 65535), 8443)
 */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`must be an integer from ${min} to ${max}, got "${value}"`);
    }
    return parsed;
  };
}

/** An integer of at least 1. */
export const positiveInteger = integerIn(1, Number.MAX_SAFE_INTEGER);
