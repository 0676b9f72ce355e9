// The conversions are pure and shared with the policy; the cluster views import them from here.
export * from '../policy/object-facts.js';
export { OPT_IN_LABELS, toPodFacts } from '../policy/pod-facts.js';
