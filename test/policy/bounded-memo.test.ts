import t from 'tap';
import { BoundedMemo, MEMO_TEXT_MAX } from '../../src/policy/bounded-memo.js';

t.test('keeps values until full, then starts again empty', async (t) => {
  const memo = new BoundedMemo<number>(3);
  t.equal(memo.set('a', 1), 1, 'set returns the value');
  memo.set('b', 2);
  memo.set('c', 3);
  t.equal(memo.size, 3);
  t.equal(memo.get('b'), 2);
  memo.set('d', 4);
  t.equal(memo.size, 1, 'a fourth key empties it first');
  t.equal(memo.get('a'), undefined);
  t.equal(memo.get('d'), 4);
});

t.test('keys longer than keyMax are never kept, however many come', async (t) => {
  const memo = new BoundedMemo<string>(100, MEMO_TEXT_MAX);
  for (let i = 0; i < 1000; i++) memo.set(`${i}`.padEnd(MEMO_TEXT_MAX + 1, 'x'), 'v');
  t.equal(memo.size, 0);
  memo.set('x'.repeat(MEMO_TEXT_MAX), 'kept');
  t.equal(memo.get('x'.repeat(MEMO_TEXT_MAX)), 'kept', 'a key of exactly keyMax is kept');
});
