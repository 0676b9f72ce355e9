import t from 'tap';
import { describeBytes, formatMemory, roundUpMemory } from '../../src/recommend/memory-quantity.js';

const MI = 2 ** 20;

t.test('rounds up to four steps per power of two, never below 16Mi', async (t) => {
  const cases: [number, number][] = [
    [1, 16],
    [16, 16],
    [17, 20], // (16, 32]: steps of 4
    [34.5, 40], // (32, 64]: steps of 8
    [64, 64],
    [64.4, 80], // (64, 128]: steps of 16
    [73.6, 80],
    [115, 128],
    [128, 128],
    [138, 160], // (128, 256]: steps of 32
    [228, 256],
    [300, 320], // (256, 512]: steps of 64
    [1100, 1280], // (1024, 2048]: steps of 256
  ];
  for (const [input, expected] of cases) t.equal(roundUpMemory(input * MI) / MI, expected, `${input}Mi → ${expected}Mi`);
  t.equal(roundUpMemory(128 * MI * (1 + 1e-15)), 128 * MI, 'float noise above a power of two stays on it');
  t.throws(() => roundUpMemory(Number.NaN), RangeError);
});

t.test('formats quantities and table sizes', async (t) => {
  t.equal(formatMemory(80 * MI), '80Mi');
  t.equal(formatMemory(1024 * MI), '1Gi');
  t.equal(formatMemory(1536 * MI), '1536Mi');
  t.equal(formatMemory(80 * MI + 1), '81Mi');
  t.equal(describeBytes(64_487_424), '61.5Mi');
  t.equal(describeBytes(-192 * MI), '-192.0Mi');
  t.equal(describeBytes(12 * 2 ** 30), '12.0Gi');
});
