/** npm run e2e:up | e2e:down. */
import { down, E2E_DIR, up } from './environment.js';

const command = process.argv[2];
try {
  if (command === 'up') {
    const state = await up((line) => console.error(`e2e: ${line}`));
    console.log(`The end-to-end cluster is up (Kubernetes ${state.kubernetesVersion}, Istio ${state.istio?.release ?? '?'} injector, ${state.istio?.nativeSidecars ? 'native' : 'classic'} sidecars).
  export KUBECONFIG=${state.kubeconfig}
  kubectl get ns
Audit log: ${state.auditLog}
Logs:      ${E2E_DIR}/logs/
Stop it:   npm run e2e:down`);
  } else if (command === 'down') {
    const stopped = await down();
    console.log(stopped.length === 0 ? 'e2e: nothing was running' : `e2e: stopped ${stopped.map((p) => p.name).join(', ')}`);
  } else {
    console.error('usage: e2e up|down');
    process.exitCode = 2;
  }
} catch (error) {
  console.error(`e2e ${command}: ${(error as Error).message}`);
  process.exitCode = 1;
}
