import t from 'tap';
import { compareQuantities, isResourceQuantity, parseQuantity } from '../../src/policy/quantity.js';

t.test('parses the Kubernetes suffixes', async (t) => {
  t.equal(parseQuantity('128Mi'), 128 * 1024 * 1024);
  t.equal(parseQuantity('1Gi'), 1024 ** 3);
  t.equal(parseQuantity('500m'), 0.5);
  t.equal(parseQuantity('2'), 2);
  t.equal(parseQuantity('1k'), 1000);
  t.equal(parseQuantity('1M'), 1e6);
  t.equal(parseQuantity('1e3'), 1000);
  t.equal(parseQuantity('.5'), 0.5);
  t.equal(parseQuantity('1.5Gi'), 1.5 * 1024 ** 3);
});

t.test('E and Ei are exa and exbi, not an exponent', async (t) => {
  t.equal(parseQuantity('1E'), 1e18);
  t.equal(parseQuantity('1.5E'), 1.5e18);
  t.equal(parseQuantity('1Ei'), 2 ** 60);
  t.equal(parseQuantity('2E3'), 2000, 'E followed by digits is an exponent');
  t.equal(parseQuantity('1E-3'), 0.001);
  t.ok(compareQuantities('1E', '1Gi') > 0, 'an exabyte is above any ceiling');
});

t.test('rejects what is not a quantity', async (t) => {
  for (const bad of ['', 'abc', '128MB', '1 Gi', '--1', '1Gi\n', 'Mi', '1iM', '0x10']) {
    t.equal(parseQuantity(bad), undefined, JSON.stringify(bad));
  }
  t.notOk(isResourceQuantity('-1'), 'negative resources are invalid');
  t.ok(isResourceQuantity('0'));
});

t.test('compares across units', async (t) => {
  t.equal(compareQuantities('1Gi', '1024Mi'), 0);
  t.equal(compareQuantities('1000m', '1'), 0);
  t.ok(compareQuantities('513Mi', '512Mi') > 0);
  t.ok(compareQuantities('100m', '0.2') < 0);
  t.throws(() => compareQuantities('lots', '1'));
});

t.test('a value read again gives the same answer, valid or not, however many distinct values came between', async (t) => {
  for (let round = 0; round < 2; round++) {
    t.equal(parseQuantity('128Mi'), 128 * 2 ** 20, `valid, read ${round + 1} times`);
    t.equal(parseQuantity('128MB'), undefined, `invalid, read ${round + 1} times`);
  }
  // More distinct texts than the cache holds: the answers stay right after it is emptied.
  let wrong = 0;
  for (let i = 0; i < 10_000; i++) if (parseQuantity(`${i}Mi`) !== i * 2 ** 20) wrong++;
  t.equal(wrong, 0, "10,000 distinct values each parsed right");
  t.equal(parseQuantity('128MB'), undefined);
  t.equal(parseQuantity('1.5Gi'), 1.5 * 2 ** 30);
  const long = `${'1'.repeat(40)}`;
  t.equal(parseQuantity(long), Number(long), 'texts too long to cache are parsed each time');
  t.equal(parseQuantity(long), Number(long));
});
