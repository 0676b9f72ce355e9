/**
 * A parser for the Prometheus text exposition format (version 0.0.4), the format Envoy's
 * `/stats/prometheus` speaks. Hand-written rather than a dependency: the one npm parser that
 * exists (parse-prometheus-text-format) ships no types and groups samples into families we
 * would only flatten again.
 */

export type SampleLabels = Readonly<Record<string, string>>;

export interface Sample {
  readonly name: string;
  readonly labels: SampleLabels;
  readonly value: number;
  /** Milliseconds since the epoch, when the line carries one. */
  readonly timestampMs?: number;
}

/** A line that is not valid exposition text; `line` counts from 1. */
export class PrometheusTextError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'PrometheusTextError';
  }
}

const NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const BLANK = /[ \t]*/y;

/** Go's strconv.ParseFloat spellings that Number() does not read, plus plain decimals. */
export function parseSampleValue(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (lower === 'nan') return Number.NaN;
  if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

class LineReader {
  pos = 0;
  constructor(
    readonly text: string,
    readonly lineNumber: number,
  ) {}

  fail(message: string): never {
    throw new PrometheusTextError(`${message} at column ${this.pos + 1}`, this.lineNumber);
  }

  token(pattern: RegExp, what: string): string {
    pattern.lastIndex = this.pos;
    const match = pattern.exec(this.text);
    if (match === null || match[0] === '') this.fail(`expected ${what}`);
    this.pos += match[0].length;
    return match[0];
  }

  skipBlanks(): void {
    BLANK.lastIndex = this.pos;
    this.pos += BLANK.exec(this.text)?.[0].length ?? 0;
  }

  expect(char: string): void {
    if (this.text[this.pos] !== char) this.fail(`expected "${char}"`);
    this.pos += 1;
  }

  quoted(): string {
    this.expect('"');
    let out = '';
    for (;;) {
      const char = this.text[this.pos];
      if (char === undefined) this.fail('unterminated label value');
      this.pos += 1;
      if (char === '"') return out;
      if (char !== '\\') {
        out += char;
        continue;
      }
      const escaped = this.text[this.pos];
      this.pos += 1;
      // The format defines exactly three escapes; anything else is kept verbatim, as Prometheus does.
      out += escaped === 'n' ? '\n' : escaped === '\\' ? '\\' : escaped === '"' ? '"' : `\\${escaped ?? ''}`;
    }
  }

  labels(): Record<string, string> {
    const labels: Record<string, string> = {};
    this.expect('{');
    for (;;) {
      this.skipBlanks();
      if (this.text[this.pos] === '}') break;
      const name = this.token(LABEL_NAME, 'a label name');
      this.skipBlanks();
      this.expect('=');
      this.skipBlanks();
      if (Object.hasOwn(labels, name)) this.fail(`duplicate label "${name}"`);
      labels[name] = this.quoted();
      this.skipBlanks();
      if (this.text[this.pos] === ',') this.pos += 1;
      else if (this.text[this.pos] !== '}') this.fail('expected "," or "}"');
    }
    this.pos += 1;
    return labels;
  }
}

function parseSampleLine(text: string, lineNumber: number): Sample {
  const reader: LineReader = new LineReader(text, lineNumber);
  reader.skipBlanks();
  const name = reader.token(NAME, 'a metric name');
  reader.skipBlanks();
  const labels = reader.text[reader.pos] === '{' ? reader.labels() : {};
  const fields = reader.text.slice(reader.pos).trim().split(/[ \t]+/);
  if (fields.length === 0 || fields[0] === '' || fields.length > 2) reader.fail('expected a value and an optional timestamp');
  const value = parseSampleValue(fields[0] as string);
  if (value === undefined) reader.fail(`"${fields[0]}" is not a number`);
  if (fields[1] === undefined) return { name, labels, value };
  if (!/^-?\d+$/.test(fields[1])) reader.fail(`"${fields[1]}" is not a timestamp`);
  return { name, labels, value, timestampMs: Number(fields[1]) };
}

/**
 * Every sample in an exposition, in order. `# HELP`, `# TYPE` and other comments are skipped;
 * a malformed line throws a PrometheusTextError naming it.
 *
 * @example
 * parsePrometheusText('envoy_server_memory_allocated 7340032\n')
 * // [{ name: 'envoy_server_memory_allocated', labels: {}, value: 7340032 }]
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    samples.push(parseSampleLine(line, index + 1));
  }
  return samples;
}
