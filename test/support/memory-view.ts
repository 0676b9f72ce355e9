/** A ClusterView over in-memory objects whose sync state a test can flip. */
import type { ClusterView } from '../../src/cluster/cluster-view.js';
import { FileClusterView } from '../../src/cluster/file-cluster-view.js';
import type { NamespaceFacts, PodFacts, SidecarFacts } from '../../src/policy/types.js';
import type { Json } from './builders.js';

export class MemoryView implements ClusterView {
  synced = true;
  #objects: Json[];
  #view: FileClusterView;

  constructor(objects: Json[] = []) {
    this.#objects = [...objects];
    this.#view = FileClusterView.fromObjects(this.#objects);
  }

  put(object: Json): void {
    this.#objects.push(object);
    this.#view = FileClusterView.fromObjects(this.#objects);
  }

  namespace(name: string): NamespaceFacts | undefined {
    return this.#view.namespace(name);
  }

  sidecars(namespace: string): readonly SidecarFacts[] {
    return this.#view.sidecars(namespace);
  }

  optedInPods(namespace: string): readonly PodFacts[] {
    return this.#view.optedInPods(namespace);
  }

  isSynced(): boolean {
    return this.synced;
  }

  async close(): Promise<void> {}
}
