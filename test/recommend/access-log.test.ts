import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { parseAccessLog, readAccessLogs } from '../../src/recommend/access-log.js';

const ref = { namespace: 'foo', pod: 'sleep-1' };
// istio.io, Envoy Access Logs task (docs/istio-facts.md, "Access logs"): sleep's line for a call to httpbin, default TEXT format.
const SLEEP_LINE =
  '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" ' +
  '"84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local ' +
  '10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default';
// The same task, httpbin's side of the same call: inbound, not an egress destination.
const HTTPBIN_LINE =
  '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 3 1 "-" "curl/7.73.0-DEV" ' +
  '"84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "127.0.0.1:80" inbound|8000|| 127.0.0.1:41854 10.44.1.27:80 ' +
  '10.44.1.23:37652 outbound_.8000_._.httpbin.foo.svc.cluster.local default';
// A TLS call to an unregistered host under ALLOW_ANY, as the TCP proxy logs it (no HTTP fields, SNI set).
const PASSTHROUGH_LINE =
  '[2020-11-25T21:30:00.000Z] "- - -" 0 - - - "-" 812 4096 120 - "-" "-" "-" "-" "140.82.112.3:443" PassthroughCluster ' +
  '10.44.1.23:51234 140.82.112.3:443 10.44.1.23:51230 api.github.com -';

t.test('the default TEXT format: cluster, time, authority, original destination and SNI', async (t) => {
  const { entries, skipped } = parseAccessLog([SLEEP_LINE, HTTPBIN_LINE, PASSTHROUGH_LINE].join('\n'), ref);
  t.equal(skipped, 0);
  t.same(entries[0], {
    namespace: 'foo',
    pod: 'sleep-1',
    timeMs: Date.parse('2020-11-25T21:26:18.409Z'),
    upstreamCluster: 'outbound|8000||httpbin.foo.svc.cluster.local',
    authority: 'httpbin:8000',
    downstreamLocal: '10.0.45.184:8000',
  });
  t.equal(entries[1]?.upstreamCluster, 'inbound|8000||');
  t.equal(entries[1]?.serverName, 'outbound_.8000_._.httpbin.foo.svc.cluster.local');
  t.match(entries[2], { upstreamCluster: 'PassthroughCluster', downstreamLocal: '140.82.112.3:443', serverName: 'api.github.com' });
  t.notOk('authority' in (entries[2] ?? {}), '"-" is no value');
});

t.test('the default JSON format, kubectl --prefix lines, and the agent\'s own lines skipped', async (t) => {
  const json = JSON.stringify({
    start_time: '2026-11-30T08:00:00.000Z',
    upstream_cluster: 'outbound|443||api.stripe.com',
    authority: 'api.stripe.com',
    upstream_host: '3.18.12.63:443',
    downstream_local_address: '3.18.12.63:443',
    requested_server_name: '-',
  });
  const text = [
    '2026-11-30T08:00:00.000000Z\tinfo\tEnvoy proxy is ready',
    json,
    `[pod/sleep-2/istio-proxy] ${SLEEP_LINE}`,
    '{"not": "an access log"}',
  ].join('\n');
  const { entries, skipped } = parseAccessLog(text, ref);
  t.equal(skipped, 2);
  t.same(entries[0], { namespace: 'foo', pod: 'sleep-1', upstreamCluster: 'outbound|443||api.stripe.com', timeMs: Date.parse('2026-11-30T08:00:00.000Z'), authority: 'api.stripe.com', downstreamLocal: '3.18.12.63:443' });
  t.equal(entries[1]?.pod, 'sleep-2', 'kubectl logs --prefix names the pod');
});

t.test('the pre-1.9 layout reads the same: istio.io "Accessing External Services" log lines (2019)', async (t) => {
  const lines = [
    '[2019-01-24T12:17:11.640Z] "GET /headers HTTP/1.1" 200 - 0 599 214 214 "-" "curl/7.60.0" "17fde8f7-fa62-9b39-8999-302324e6def2" "httpbin.org" "35.173.6.94:80" outbound|80||httpbin.org - 35.173.6.94:80 172.30.109.82:55314 -',
    '[2019-01-24T12:48:54.977Z] "- - -" 0 - 601 17766 1289 - "-" "-" "-" "-" "172.217.161.36:443" outbound|443||www.google.com 172.30.109.82:59480 172.217.161.36:443 172.30.109.82:59478 www.google.com',
  ];
  const { entries } = parseAccessLog(lines.join('\n'), ref);
  t.match(entries[0], { upstreamCluster: 'outbound|80||httpbin.org', authority: 'httpbin.org', downstreamLocal: '35.173.6.94:80' });
  t.match(entries[1], { upstreamCluster: 'outbound|443||www.google.com', downstreamLocal: '172.217.161.36:443', serverName: 'www.google.com' });
});

t.test('files: named <namespace>/<pod>.log; one with no access log line is an error naming it', async (t) => {
  const dir = join(t.testdir(), 'foo');
  await mkdir(dir);
  await writeFile(join(dir, 'sleep-1.log'), `${SLEEP_LINE}\n`);
  await writeFile(join(dir, 'agent.log'), '2026-11-30T08:00:00.000000Z\tinfo\tready\n');
  const entries = await readAccessLogs([join(dir, 'sleep-1.log')]);
  t.match(entries[0], { namespace: 'foo', pod: 'sleep-1' });
  await t.rejects(readAccessLogs([join(dir, 'agent.log')]), { message: /--access-log \S+agent\.log: no access log line in it.*accessLogFile/ });
  await t.rejects(readAccessLogs([join(dir, 'missing.log')]), { message: /--access-log \S+missing\.log/ });
});

t.test('files: a long log (200,000 lines) is read whole', async (t) => {
  const dir = join(t.testdir(), 'foo');
  await mkdir(dir);
  await writeFile(join(dir, 'sleep-1.log'), `${SLEEP_LINE}\n`.repeat(200_000));
  const entries = await readAccessLogs([join(dir, 'sleep-1.log')]);
  t.equal(entries.length, 200_000);
});
