/** kubectl's global flags that sidecar-guard understands, each taking a value. */
const KUBECTL_FLAGS = new Set(['--context', '--kubeconfig', '-n', '--namespace']);

/**
 * The arguments of `kubectl sidecar-guard …` as sidecar-guard takes them. kubectl hands a plugin its
 * arguments untouched, and its users put global flags anywhere, also before the command
 * (`kubectl sidecar-guard -n shop audit`): those are moved after it, where the command reads them.
 *
 * @example pluginArgs(['--context', 'prod', 'audit', '-o', 'json']) // ['audit', '-o', 'json', '--context', 'prod']
 */
export function pluginArgs(args: readonly string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < args.length) {
    const arg = args[i] ?? '';
    const flag = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (!KUBECTL_FLAGS.has(flag) && !/^-n./.test(arg)) break;
    if (arg === flag && args[i + 1] !== undefined && !/^-n./.test(arg)) {
      leading.push(arg, args[i + 1] ?? '');
      i += 2;
    } else {
      leading.push(arg);
      i += 1;
    }
  }
  const [command, ...rest] = args.slice(i);
  return command === undefined ? [...leading] : [command, ...rest, ...leading];
}
