{{/* Chart name, truncated to the DNS label limit. */}}
{{- define "sidecar-guard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name, unless it already contains the chart name. */}}
{{- define "sidecar-guard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sidecar-guard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: stable across upgrades. */}}
{{- define "sidecar-guard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sidecar-guard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end }}

{{/* Kubernetes recommended labels, on every object. */}}
{{- define "sidecar-guard.labels" -}}
helm.sh/chart: {{ include "sidecar-guard.chart" . }}
{{ include "sidecar-guard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: sidecar-guard
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "sidecar-guard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sidecar-guard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding tls.crt/tls.key: created by the webhook (self-managed) or cert-manager, or yours (secret). */}}
{{- define "sidecar-guard.tlsSecretName" -}}
{{- if eq .Values.tls.mode "secret" }}
{{- required "tls.secret.name is required when tls.mode is secret" .Values.tls.secret.name }}
{{- else }}
{{- printf "%s-tls" (include "sidecar-guard.fullname" .) }}
{{- end }}
{{- end }}

{{/*
The MutatingWebhookConfiguration's name. kube-apiserver runs mutating configurations sorted by
metadata.name (Go string order, byte by byte) and Istio's injector configurations are named
istio-revision-tag-* and istio-sidecar-injector*, with reinvocationPolicy Never. Ours must run
first so the injector reads the resource annotations we set. "istio-revision-tag" < "istio-sidecar-injector",
and every name that starts with "istio-revision-tag" is >= "istio-revision-tag", so a name sorts
before all of Istio's exactly when name < "istio-revision-tag". The default "00-<fullname>" starts
with "0" (0x30), below every lowercase letter ("i" is 0x69), so it runs before Istio and before
most other mutating webhooks.
*/}}
{{- define "sidecar-guard.mutatingName" -}}
{{- $name := .Values.webhook.mutating.name | default (printf "00-%s" (include "sidecar-guard.fullname" .)) }}
{{- if and (not (lt $name "istio-revision-tag")) (not .Values.webhook.mutating.istioReinvocationIfNeeded) }}
{{- fail (printf "webhook.mutating.name %q sorts after Istio's injector (istio-revision-tag-*, istio-sidecar-injector*): kube-apiserver calls mutating webhook configurations in name order and Istio's injector is not reinvoked, so the proxy resource annotations would be set too late. Choose a name that sorts before \"istio-revision-tag\" (for example \"00-sidecar-guard\"), or, if Istio runs with sidecarInjectorWebhook.reinvocationPolicy=IfNeeded, set webhook.mutating.istioReinvocationIfNeeded=true." $name) }}
{{- end }}
{{- $name }}
{{- end }}

{{- define "sidecar-guard.validatingName" -}}
{{- .Values.webhook.validating.name | default (include "sidecar-guard.fullname" .) }}
{{- end }}

{{/* Namespaces never sent to the webhook. */}}
{{- define "sidecar-guard.excludedNamespaces" -}}
{{- $list := list "kube-system" .Release.Namespace }}
{{- range .Values.webhook.excludedNamespaces }}{{ $list = append $list . }}{{ end }}
{{- toJson (uniq $list) }}
{{- end }}

{{/*
Mesh namespaces, as Istio's injector selects them (istio-injection=enabled, or istio.io/rev set
and no istio-injection label). A label selector ANDs its expressions, so the OR takes two webhook
entries: "injection" and "revision". They never both match one namespace, so no request is sent
twice. Both exclude the ignored namespaces and the sidecar-guard.io/ignore label.
Call with (dict "ctx" $ "kind" "injection"|"revision").
*/}}
{{- define "sidecar-guard.namespaceSelector" -}}
{{- $ctx := .ctx -}}
namespaceSelector:
  matchExpressions:
    {{- if eq .kind "injection" }}
    - { key: istio-injection, operator: In, values: [enabled] }
    {{- else if eq .kind "revision" }}
    - { key: istio.io/rev, operator: Exists }
    - { key: istio-injection, operator: DoesNotExist }
    {{- else }}
    - { key: istio-injection, operator: DoesNotExist }
    - { key: istio.io/rev, operator: DoesNotExist }
    {{- end }}
    - { key: sidecar-guard.io/ignore, operator: DoesNotExist }
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: {{ include "sidecar-guard.excludedNamespaces" $ctx }}
{{- end }}

{{/*
Pods that opt in on their own in a namespace with neither injection label, as Istio's
object.sidecar-injector.istio.io and rev.object.sidecar-injector.istio.io select them (Istio's
istio-discovery chart, templates/mutatingwebhook.yaml): "pod-inject" is label
sidecar.istio.io/inject=true without istio.io/rev, "pod-revision" is a pod istio.io/rev label (not
opted out). Without these entries such pods would get a proxy and never meet sidecar-guard.
Namespace entries ("injection", "revision") skip pods labelled sidecar.istio.io/inject=false, as Istio does.
*/}}
{{- define "sidecar-guard.podObjectSelector" -}}
objectSelector:
  matchExpressions:
    {{- if eq . "pod-inject" }}
    - { key: sidecar.istio.io/inject, operator: In, values: ["true"] }
    - { key: istio.io/rev, operator: DoesNotExist }
    {{- else if eq . "pod-revision" }}
    - { key: sidecar.istio.io/inject, operator: NotIn, values: ["false"] }
    - { key: istio.io/rev, operator: Exists }
    {{- else }}
    - { key: sidecar.istio.io/inject, operator: NotIn, values: ["false"] }
    {{- end }}
{{- end }}

{{/*
Validating pod entries with matchConditions: pods carrying the opt-in label with ANY value, split
so no pod matches both ("pod-inject": sidecar.istio.io/inject set, no istio.io/rev; "pod-revision":
istio.io/rev set). This is the set the cluster view watches; the "pod-injected-by-istio" condition
narrows CREATE back to Istio's own selectors (sidecar-guard.podOptsIn).
*/}}
{{- define "sidecar-guard.podOptInKeySelector" -}}
objectSelector:
  matchExpressions:
    {{- if eq . "pod-inject" }}
    - { key: sidecar.istio.io/inject, operator: Exists }
    - { key: istio.io/rev, operator: DoesNotExist }
    {{- else }}
    - { key: istio.io/rev, operator: Exists }
    {{- end }}
{{- end }}

{{/*
CEL: the labels (a map known to exist, or absent) are selected by Istio's object selector of this
entry: "pod-inject" sidecar.istio.io/inject == "true" without istio.io/rev, "pod-revision" istio.io/rev
unless sidecar.istio.io/inject == "false". Call with (dict "kind" ... "labels" "object.metadata.labels").
*/}}
{{- define "sidecar-guard.podOptsIn" -}}
{{- $l := .labels -}}
{{- if eq .kind "pod-inject" -}}
(has({{ $l }}) && 'sidecar.istio.io/inject' in {{ $l }} && {{ $l }}['sidecar.istio.io/inject'] == 'true' && !('istio.io/rev' in {{ $l }}))
{{- else -}}
(has({{ $l }}) && 'istio.io/rev' in {{ $l }} && !('sidecar.istio.io/inject' in {{ $l }} && {{ $l }}['sidecar.istio.io/inject'] == 'false'))
{{- end }}
{{- end }}

{{/* True (non-empty) when the cluster serves webhook matchConditions (GA in 1.30). */}}
{{- define "sidecar-guard.matchConditions" -}}
{{- if and .Values.webhook.matchConditions (semverCompare ">=1.30.0-0" .Capabilities.KubeVersion.Version) }}true{{ end }}
{{- end }}

{{/* clientConfig for a path. */}}
{{- define "sidecar-guard.clientConfig" -}}
{{- $ctx := .ctx -}}
clientConfig:
  service:
    name: {{ include "sidecar-guard.fullname" $ctx }}
    namespace: {{ $ctx.Release.Namespace }}
    path: {{ .path }}
    port: {{ $ctx.Values.service.port }}
  {{- if and (eq $ctx.Values.tls.mode "secret") $ctx.Values.tls.secret.caBundle }}
  caBundle: {{ $ctx.Values.tls.secret.caBundle }}
  {{- end }}
{{- end }}

{{/* Annotations of both webhook configurations. */}}
{{- define "sidecar-guard.webhookAnnotations" -}}
{{- if eq .Values.tls.mode "cert-manager" -}}
annotations:
  cert-manager.io/inject-ca-from: {{ printf "%s/%s" .Release.Namespace (include "sidecar-guard.fullname" .) }}
{{- end }}
{{- end }}

{{/* Cross-field checks the schema cannot express. */}}
{{- define "sidecar-guard.validate" -}}
{{- $profiles := .Values.config.profiles }}
{{- if not (hasKey $profiles .Values.config.defaultProfile) }}
{{- fail (printf "config.defaultProfile %q is not one of config.profiles (%s)" .Values.config.defaultProfile (keys $profiles | sortAlpha | join ", ")) }}
{{- end }}
{{- range $i, $rule := .Values.config.rules }}
{{- if not (hasKey $profiles $rule.profile) }}
{{- fail (printf "config.rules[%d].profile %q is not one of config.profiles (%s)" $i $rule.profile (keys $profiles | sortAlpha | join ", ")) }}
{{- end }}
{{- end }}
{{- $_ := include "sidecar-guard.mutatingName" . }}
{{- if and (eq .Values.tls.mode "secret") (not .Values.tls.secret.name) }}
{{- fail "tls.secret.name is required when tls.mode is secret" }}
{{- end }}
{{- end }}

{{/* config.mode as a string: Helm reads an unquoted `off` as the YAML 1.1 boolean false. */}}
{{- define "sidecar-guard.mode" -}}
{{- if eq (toString .Values.config.mode) "false" }}off{{ else }}{{ .Values.config.mode }}{{ end }}
{{- end }}

{{/*
CEL: the pod template at the given path opts in to injection on its own (Istio's
object.sidecar-injector.istio.io and rev.object.sidecar-injector.istio.io object selectors).
*/}}
{{- define "sidecar-guard.templateOptsIn" -}}
{{- $t := . -}}
(has({{ $t }}) && has({{ $t }}.metadata) && has({{ $t }}.metadata.labels) &&
  (('sidecar.istio.io/inject' in {{ $t }}.metadata.labels && {{ $t }}.metadata.labels['sidecar.istio.io/inject'] == 'true') ||
   ('istio.io/rev' in {{ $t }}.metadata.labels &&
    !('sidecar.istio.io/inject' in {{ $t }}.metadata.labels && {{ $t }}.metadata.labels['sidecar.istio.io/inject'] == 'false'))))
{{- end }}

{{/* The workload controllers validated at apply time (their pods are checked at CREATE too). */}}
{{- define "sidecar-guard.workloadRules" -}}
rules:
  - apiGroups: [apps]
    apiVersions: [v1]
    resources: [deployments, statefulsets, daemonsets, replicasets]
    operations: [CREATE, UPDATE]
    scope: Namespaced
  - apiGroups: [batch]
    apiVersions: [v1]
    resources: [jobs, cronjobs]
    operations: [CREATE, UPDATE]
    scope: Namespaced
{{- end }}

{{/*
matchCondition: skip controller UPDATEs that leave the pod template alone (replica counts,
metadata, controller annotations): the verdict is about the pods the template makes. has() guards
keep the expression from erroring, which failurePolicy Fail would turn into a denial.
*/}}
{{- define "sidecar-guard.podTemplateChanged" -}}
- name: pod-template-changed
  expression: >-
    request.operation != 'UPDATE' || !has(object.spec) || !has(oldObject.spec) ||
    has(object.spec.template) != has(oldObject.spec.template) ||
    (has(object.spec.template) && object.spec.template != oldObject.spec.template) ||
    has(object.spec.jobTemplate) != has(oldObject.spec.jobTemplate) ||
    (has(object.spec.jobTemplate) && object.spec.jobTemplate != oldObject.spec.jobTemplate)
{{- end }}

{{/*
matchCondition: a relabel can move a running proxy out of a Sidecar's workloadSelector, and istiod
re-pushes its configuration with no other admission call: pod UPDATEs (and pods/status UPDATEs,
which can rewrite labels too) come to the webhook when the labels change, and only then.
*/}}
{{- define "sidecar-guard.podLabelsChanged" -}}
- name: pod-labels-changed
  expression: >-
    request.operation != 'UPDATE' ||
    has(object.metadata.labels) != has(oldObject.metadata.labels) ||
    (has(object.metadata.labels) && object.metadata.labels != oldObject.metadata.labels)
{{- end }}

{{/* matchCondition: skip Sidecar UPDATEs that change only metadata (labels, annotations, finalizers). */}}
{{- define "sidecar-guard.sidecarSpecChanged" -}}
- name: sidecar-spec-changed
  expression: >-
    request.operation != 'UPDATE' || !has(object.spec) || !has(oldObject.spec) ||
    object.spec != oldObject.spec
{{- end }}

{{/* The Lease the replicas elect the report writer by. */}}
{{- define "sidecar-guard.reportsLeaseName" -}}
{{- printf "%s-reports" (include "sidecar-guard.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The report API group and its two resources, from reports.api. */}}
{{- define "sidecar-guard.reportsGroup" -}}
{{- ternary "openreports.io" "wgpolicyk8s.io" (eq .Values.reports.api "openreports") }}
{{- end }}
{{- define "sidecar-guard.reportsResources" -}}
{{- ternary "[reports, clusterreports]" "[policyreports, clusterpolicyreports]" (eq .Values.reports.api "openreports") }}
{{- end }}

{{/* Refuse lease timings client-go's elector would refuse (and `serve` exits on). */}}
{{- define "sidecar-guard.validateReports" -}}
{{- with .Values.reports }}
{{- if .enabled }}
{{- if le (int .leaseDurationSeconds) (int .renewDeadlineSeconds) }}
{{- fail (printf "reports.leaseDurationSeconds (%v) must be longer than reports.renewDeadlineSeconds (%v)" .leaseDurationSeconds .renewDeadlineSeconds) }}
{{- end }}
{{- if le (mulf (float64 .renewDeadlineSeconds) 1.0) (mulf (float64 .retryPeriodSeconds) 1.2) }}
{{- fail (printf "reports.renewDeadlineSeconds (%v) must be longer than 1.2 x reports.retryPeriodSeconds (%v)" .renewDeadlineSeconds .retryPeriodSeconds) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
