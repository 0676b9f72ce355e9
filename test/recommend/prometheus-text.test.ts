import t from 'tap';
import { parsePrometheusText, PrometheusTextError } from '../../src/recommend/prometheus-text.js';

t.test('reads Envoy stats lines with labels, HELP/TYPE comments and histogram buckets', async (t) => {
  const samples = parsePrometheusText(
    [
      '# HELP envoy_server_memory_allocated Current amount of allocated memory',
      '# TYPE envoy_server_memory_allocated gauge',
      'envoy_server_memory_allocated 45088768',
      '',
      'envoy_cluster_upstream_rq_total{cluster_name="outbound|9080||reviews.bookinfo.svc.cluster.local"} 42',
      'envoy_cluster_upstream_cx_connect_ms_bucket{cluster_name="xds-grpc",le="+Inf"} 9',
    ].join('\n'),
  );
  t.same(samples, [
    { name: 'envoy_server_memory_allocated', labels: {}, value: 45088768 },
    { name: 'envoy_cluster_upstream_rq_total', labels: { cluster_name: 'outbound|9080||reviews.bookinfo.svc.cluster.local' }, value: 42 },
    { name: 'envoy_cluster_upstream_cx_connect_ms_bucket', labels: { cluster_name: 'xds-grpc', le: '+Inf' }, value: 9 },
  ]);
});

t.test('label value escapes, trailing commas, blanks, special values and timestamps', async (t) => {
  const [a, b, c, d] = parsePrometheusText(
    'm{path="C:\\\\dir",quote="say \\"hi\\"",nl="a\\nb",} 1.5e3 1700000000000\nm { x = "y" } NaN\nm +Inf\nm -Inf\r\n',
  );
  t.same(a, { name: 'm', labels: { path: 'C:\\dir', quote: 'say "hi"', nl: 'a\nb' }, value: 1500, timestampMs: 1700000000000 });
  t.same(b?.labels, { x: 'y' });
  t.ok(Number.isNaN(b?.value));
  t.equal(c?.value, Number.POSITIVE_INFINITY);
  t.equal(d?.value, Number.NEGATIVE_INFINITY);
});

t.test('malformed lines are named by number', async (t) => {
  const cases: [string, RegExp][] = [
    ['ok 1\nbad{a="1" 2', /line 2: expected "," or "}"/],
    ['m{a="unterminated} 1', /unterminated label value/],
    ['m 12abc', /"12abc" is not a number/],
    ['m{a="1",a="2"} 1', /duplicate label "a"/],
    ['m', /expected a value/],
    ['m 1 2 3', /expected a value and an optional timestamp/],
    ['m 1 1.5', /is not a timestamp/],
    ['{a="1"} 1', /expected a metric name/],
  ];
  for (const [text, message] of cases) t.throws(() => parsePrometheusText(text), message, text);
  t.throws(() => parsePrometheusText('m x'), PrometheusTextError);
});
