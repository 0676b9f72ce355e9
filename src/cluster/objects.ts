// The conversions are pure and shared with the policy; the cluster views import them from here.
export * from '../policy/object-facts.js';
