import t from 'tap';
import { pluginArgs } from '../../src/cli/kubectl-args.js';

t.test('kubectl global flags before the command move after it; everything else stays in order', async (t) => {
  t.same(pluginArgs(['audit', '-n', 'shop', '-o', 'json']), ['audit', '-n', 'shop', '-o', 'json']);
  t.same(pluginArgs(['--context', 'prod', '-n', 'shop', 'audit', '-o', 'sarif']), ['audit', '-o', 'sarif', '--context', 'prod', '-n', 'shop']);
  t.same(pluginArgs(['--context=prod', '--namespace=shop', '--kubeconfig', '/k', 'audit']), ['audit', '--context=prod', '--namespace=shop', '--kubeconfig', '/k']);
  t.same(pluginArgs(['-nshop', 'explain', '-f', 'pod.yaml']), ['explain', '-f', 'pod.yaml', '-nshop']);
  t.same(pluginArgs(['--help']), ['--help'], 'not a kubectl flag: left for commander');
  t.same(pluginArgs(['-n']), ['-n'], 'a flag without its value is left for commander to refuse');
  t.same(pluginArgs([]), []);
});
