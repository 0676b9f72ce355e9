import { ApiException } from '@kubernetes/client-node';
import t from 'tap';
import { accessHint, describeApiError } from '../../src/kube/api-error.js';

const forbidden = JSON.stringify({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  message: 'sidecars.networking.istio.io is forbidden: User "system:serviceaccount:sg:sg" cannot list resource "sidecars" in API group "networking.istio.io" at the cluster scope',
  reason: 'Forbidden',
  code: 403,
});

t.test('an API error becomes one line: the code and the API server message, no headers', async (t) => {
  const error = new ApiException(403, 'Unknown API Status Code!', forbidden, { 'audit-id': 'abc' });
  const text = describeApiError(error);
  t.equal(text, 'HTTP 403: sidecars.networking.istio.io is forbidden: User "system:serviceaccount:sg:sg" cannot list resource "sidecars" in API group "networking.istio.io" at the cluster scope');
  t.notMatch(text, /Unknown API Status Code|Headers|audit-id|\n/);
  t.match(accessHint(error), /list and watch on namespaces and sidecars/);
});

t.test('bodies that are objects, plain text or empty, and non-API errors', async (t) => {
  t.equal(describeApiError(new ApiException(404, 'x', { message: 'the server could not find the requested resource' }, {})), 'HTTP 404: the server could not find the requested resource');
  t.equal(describeApiError(new ApiException(502, 'x', 'Bad Gateway\n', {})), 'HTTP 502: Bad Gateway');
  t.equal(describeApiError(new ApiException(500, 'x', '', {})), 'HTTP 500');
  t.equal(describeApiError(new Error('connect ECONNREFUSED 127.0.0.1:6443')), 'connect ECONNREFUSED 127.0.0.1:6443');
  t.equal(describeApiError('plain'), 'plain');
  t.equal(accessHint(new ApiException(401, 'x', '', {})), '; the kubeconfig or service account token was not accepted');
  t.equal(accessHint(new Error('boom')), '');
});
