import t from 'tap';
import { percentile } from '../../src/recommend/percentile.js';

t.test('nearest rank: the smallest value with at least p% at or below it', async (t) => {
  t.equal(percentile([50, 52, 54, 56], 90), 56, 'rank ceil(0.9 × 4) = 4');
  t.equal(percentile([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], 90), 9, 'rank ceil(0.9 × 10) = 9, input order ignored');
  t.equal(percentile([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], 50), 5, 'rank 5');
  t.equal(percentile([7], 90), 7);
  t.equal(percentile([1, 2], 100), 2);
  t.throws(() => percentile([], 90), RangeError);
  t.throws(() => percentile([1], 0), RangeError);
  t.throws(() => percentile([1], 101), RangeError);
});
