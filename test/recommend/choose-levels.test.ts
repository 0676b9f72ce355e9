import t from 'tap';
import { chooseLevels } from '../../src/recommend/choose-levels.js';

t.test('no more distinct values than allowed: every value is a level', async (t) => {
  t.same(chooseLevels([{ value: 80, weight: 1 }, { value: 40, weight: 2 }, { value: 80, weight: 2 }], 3), [40, 80]);
});

t.test('more values than levels: least pod-weighted over-provisioning, largest always kept', async (t) => {
  // The Bookinfo fixture: 40Mi × 2 pods, 80Mi × 3 pods, 128Mi × 1, 256Mi × 1; three levels.
  //   {40, 80, 256}:  128→256 = 1 × 128            = 128
  //   {40, 128, 256}: 80→128  = 3 × 48             = 144
  //   {80, 128, 256}: 40→80   = 2 × 40             = 80   ← least
  const values = [
    { value: 40, weight: 2 },
    { value: 80, weight: 3 },
    { value: 128, weight: 1 },
    { value: 256, weight: 1 },
  ];
  t.same(chooseLevels(values, 3), [80, 128, 256]);
  // Two levels: {80, 256}: 2×40 + 1×128 = 208; {128, 256}: 2×88 + 3×48 = 320; {40, 256}: 3×176 + 128 = 656.
  t.same(chooseLevels(values, 2), [80, 256]);
  t.same(chooseLevels(values, 1), [256]);
  t.throws(() => chooseLevels(values, 0), RangeError);
});
