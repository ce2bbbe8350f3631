{{/* Names */}}
{{- define "vaultsync.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vaultsync.fullname" -}}
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

{{- define "vaultsync.serviceAccountName" -}}
{{- default (include "vaultsync.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{/* Labels: the kustomize manifests in config/ carry the same set without the last two. */}}
{{- define "vaultsync.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vaultsync.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "vaultsync.labels" -}}
{{ include "vaultsync.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: vaultsync
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "vaultsync.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Where the chart mounts the API's TLS Secret and the webhook signing keys. */}}
{{- define "vaultsync.apiTlsDir" -}}/var/run/secrets/vaultsync/api-tls{{- end }}
{{- define "vaultsync.webhookKeyDir" -}}/var/run/secrets/vaultsync/webhooks{{- end }}

{{/*
The operator config file. The release decides the namespace (POD_NAMESPACE from the downward
API), the ServiceAccount, the listen addresses, the watched namespaces (rbac.watchNamespaces with
rbac.scope namespaced: the operator watches exactly where the chart grants access) and the paths
of the files it mounts; everything else comes from .Values.config, .Values.api, .Values.audit and
.Values.webhooks. /metrics is served on the health port: there is no separate metrics listener ("0").
*/}}
{{- define "vaultsync.config" -}}
{{- /* Every section of .Values.config as it is (values.schema.json checks it against the operator's
own schema), except: operator (release fields added) and issuers (listed under backends, where the
operator takes certificate issuers). */}}
{{- $config := omit .Values.config "operator" "issuers" | deepCopy }}
{{- $_ := set $config "backends" (concat (.Values.config.backends | default list) (.Values.config.issuers | default list) | deepCopy) }}
{{- $operator := deepCopy .Values.config.operator }}
{{- $_ := set $operator "serviceAccountName" (include "vaultsync.serviceAccountName" .) }}
{{- $_ := set $operator "healthAddress" (printf ":%d" (int .Values.healthPort)) }}
{{- $_ := set $operator "metricsAddress" "0" }}
{{- if eq .Values.rbac.scope "namespaced" }}
{{- $_ := set $operator "watchNamespaces" (.Values.rbac.watchNamespaces | uniq) }}
{{- end }}
{{- /* api: the chart's own keys (enabled, port, service, tls.secretName, tls.caKey) become address and file paths. */}}
{{- $api := omit .Values.api "enabled" "port" "service" "tls" "caBundleReaders" | deepCopy }}
{{- $_ := set $api "address" (ternary (printf ":%d" (int .Values.api.port)) "0" .Values.api.enabled) }}
{{- $_ := set $api "grpc" (dict "address" (ternary (printf ":%d" (int .Values.api.grpc.port)) "0" (and .Values.api.enabled .Values.api.grpc.enabled))) }}
{{- $tls := omit .Values.api.tls "secretName" "caKey" "dnsNames" | deepCopy }}
{{- if .Values.api.tls.secretName }}
{{- $_ := set $tls "certFile" (printf "%s/tls.crt" (include "vaultsync.apiTlsDir" .)) }}
{{- $_ := set $tls "keyFile" (printf "%s/tls.key" (include "vaultsync.apiTlsDir" .)) }}
{{- if .Values.api.tls.caKey }}
{{- $_ := set $tls "caFile" (printf "%s/ca.crt" (include "vaultsync.apiTlsDir" .)) }}
{{- end }}
{{- end }}
{{- /* The operator puts the names of a Service called `vaultsync` into a generated certificate; another release name adds its own. */}}
{{- $fullname := include "vaultsync.fullname" . }}
{{- $dnsNames := .Values.api.tls.dnsNames }}
{{- if ne $fullname "vaultsync" }}
{{- $svc := list $fullname (printf "%s.%s" $fullname .Release.Namespace) (printf "%s.%s.svc" $fullname .Release.Namespace) (printf "%s.%s.svc.cluster.local" $fullname .Release.Namespace) }}
{{- $dnsNames = concat $svc $dnsNames | uniq }}
{{- end }}
{{- with $dnsNames }}
{{- $_ := set $tls "dnsNames" . }}
{{- end }}
{{- if $tls }}
{{- $_ := set $api "tls" $tls }}
{{- end }}
{{- $audit := omit .Values.audit "path" | deepCopy }}
{{- with .Values.audit.path }}
{{- $_ := set $audit "path" . }}
{{- end }}
{{- /* webhooks: a receiver's signingKeySecret becomes the signingKeyFile the chart mounts. */}}
{{- $receivers := list }}
{{- range .Values.webhooks.receivers }}
{{- $receiver := omit . "signingKeySecret" | deepCopy }}
{{- if .signingKeySecret }}
{{- $_ := set $receiver "signingKeyFile" (printf "%s/%s/signing-key" (include "vaultsync.webhookKeyDir" $) .name) }}
{{- end }}
{{- $receivers = append $receivers $receiver }}
{{- end }}
{{- $webhooks := omit .Values.webhooks "receivers" | deepCopy }}
{{- $_ := set $webhooks "receivers" $receivers }}
{{- toYaml (merge (dict "operator" $operator "api" $api "audit" $audit "webhooks" $webhooks) $config) }}
{{- end }}

{{/* config.backends then config.issuers: every backend and issuer entry, as a JSON list. */}}
{{- define "vaultsync.backends" -}}
{{- toJson (concat (.Values.config.backends | default list) (.Values.config.issuers | default list)) }}
{{- end }}

{{/* Checks values.schema.json cannot express; a failure stops helm install / template. */}}
{{- define "vaultsync.validate" -}}
{{- if and .Values.api.enabled (eq (int .Values.api.port) (int .Values.healthPort)) }}
{{- fail (printf "api.port: %d is already healthPort; choose another port" (int .Values.api.port)) }}
{{- end }}
{{- if and .Values.api.enabled .Values.api.grpc.enabled (has (int .Values.api.grpc.port) (list (int .Values.api.port) (int .Values.healthPort))) }}
{{- fail (printf "api.grpc.port: %d is already api.port or healthPort; choose another port" (int .Values.api.grpc.port)) }}
{{- end }}
{{- $names := dict }}
{{- range $i, $b := include "vaultsync.backends" . | fromJsonArray }}
{{- if hasKey $names $b.name }}
{{- fail (printf "config.backends / config.issuers: %q is listed twice; backend and issuer names must be unique" $b.name) }}
{{- end }}
{{- $_ := set $names $b.name $i }}
{{- end }}
{{- $seen := dict }}
{{- range $i, $r := .Values.webhooks.receivers }}
{{- if hasKey $seen $r.name }}
{{- fail (printf "webhooks.receivers[%d].name: %q is already the name of receivers[%v]; names must be unique" $i $r.name (get $seen $r.name)) }}
{{- end }}
{{- $_ := set $seen $r.name $i }}
{{- end }}
{{- end }}

{{/*
ServiceAccount names in the resources' namespaces that vault backends and vault-pki issuers log
in as (auth.kubernetes with serviceAccount: resource, the default): a JSON list, sorted, unique.
*/}}
{{- define "vaultsync.tokenServiceAccounts" -}}
{{- $names := list }}
{{- range include "vaultsync.backends" . | fromJsonArray }}
{{- if and (has .type (list "vault" "vault-pki")) .auth .auth.kubernetes }}
{{- if ne (default "resource" .auth.kubernetes.serviceAccount) "operator" }}
{{- $names = append $names (default "vaultsync" .auth.kubernetes.serviceAccountName) }}
{{- end }}
{{- end }}
{{- end }}
{{- toJson ($names | uniq | sortAlpha) }}
{{- end }}

{{/* "true" when a vault backend or vault-pki issuer logs in as the operator's own ServiceAccount. */}}
{{- define "vaultsync.operatorToken" -}}
{{- range include "vaultsync.backends" . | fromJsonArray }}
{{- if and (has .type (list "vault" "vault-pki")) .auth .auth.kubernetes (eq (default "resource" .auth.kubernetes.serviceAccount) "operator") }}true{{ end }}
{{- end }}
{{- end }}

{{/*
What the configured backends and issuers do with Secrets outside the served namespaces, as a
JSON map namespace -> list of {verbs, resourceNames?} (no resourceNames: every Secret there):
- a Secret key reference anywhere in `auth` (credentials; default namespace: the operator's): get
  of that Secret;
- a kubernetes backend's source namespace: get (any Secret: path = name), and with
  allowedWritePaths create and patch (its writes: create, or a merge patch of data carrying the
  read resourceVersion; never update);
- a local-ca issuer's CA Secret (ca.namespace, default the operator's): get of that Secret, and
  create unless ca.create is false.
Needed in RBAC only with scope: namespaced (the cluster scope has get, create and patch on Secrets
everywhere, for the target Secrets).
*/}}
{{- define "vaultsync.secretGrants" -}}
{{- $ns := .Release.Namespace }}
{{- $grants := dict }}
{{- range include "vaultsync.backends" . | fromJsonArray }}
{{- $want := list }}
{{- if eq .type "kubernetes" }}
{{- /* get: reads; list: dataFrom[].find; delete: API deletes (api.secretDeletes) where writes are allowed. */}}
{{- $want = append $want (dict "namespace" .namespace "verbs" (list "get" "list")) }}
{{- if .allowedWritePaths }}
{{- $want = append $want (dict "namespace" .namespace "verbs" (list "create" "patch")) }}
{{- if and $.Values.api.enabled $.Values.api.secretDeletes }}
{{- $want = append $want (dict "namespace" .namespace "verbs" (list "delete")) }}
{{- end }}
{{- end }}
{{- end }}
{{- if eq .type "local-ca" }}
{{- $ca := .ca | default dict }}
{{- $caNs := $ca.namespace | default $ns }}
{{- $want = append $want (dict "namespace" $caNs "verbs" (list "get") "resourceNames" (list ($ca.secretName | default "vaultsync-local-ca"))) }}
{{- if or (not (hasKey $ca "create")) $ca.create }}
{{- $want = append $want (dict "namespace" $caNs "verbs" (list "create")) }}
{{- end }}
{{- end }}
{{- /* Any Secret key reference in auth (name + key), one or two levels down: auth.<method>.<field>Ref. */}}
{{- range $v := (.auth | default dict) }}
{{- if kindIs "map" $v }}
{{- if and (hasKey $v "name") (hasKey $v "key") }}
{{- $want = append $want (dict "namespace" ($v.namespace | default $ns) "verbs" (list "get") "resourceNames" (list $v.name)) }}
{{- end }}
{{- range $w := $v }}
{{- if and (kindIs "map" $w) (hasKey $w "name") (hasKey $w "key") }}
{{- $want = append $want (dict "namespace" ($w.namespace | default $ns) "verbs" (list "get") "resourceNames" (list $w.name)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- range $want }}
{{- $rule := omit . "namespace" }}
{{- $_ := set $grants .namespace (append (get $grants .namespace | default list) $rule | uniq) }}
{{- end }}
{{- end }}
{{- toJson $grants }}
{{- end }}

{{/* The rules the operator needs in every namespace it serves (ClusterRole or per-namespace Role). */}}
{{- define "vaultsync.workloadRules" -}}
# Read the three kinds; status is written with merge / apply patches.
- apiGroups: [vaultsync.io]
  resources: [vaultsecrets, vaultcertificates, secretrotations]
  verbs: [get, list, watch]
- apiGroups: [vaultsync.io]
  resources: [vaultsecrets/status, vaultcertificates/status, secretrotations/status]
  verbs: [patch]
# Target Secrets carry an owner reference with blockOwnerDeletion (deletionPolicy: Delete);
# clusters with the OwnerReferencesPermissionEnforcement admission plugin check this verb.
- apiGroups: [vaultsync.io]
  resources: [vaultsecrets/finalizers]
  verbs: [update]
# Finalizers only, added and removed with a merge patch of metadata.finalizers (never spec):
# VaultSecret Merge + Delete (vaultsync.io/remove-merged-keys) and VaultCertificate
# revokeOnDelete (revocation before the resource goes).
- apiGroups: [vaultsync.io]
  resources: [vaultsecrets, vaultcertificates]
  verbs: [patch]
# Target Secrets: a label-filtered informer (list/watch), a get for a target it does not own
# yet (Merge, or after a create-only apply found one), server-side apply to create and update
# (an apply that creates is authorized as create).
- apiGroups: ['']
  resources: [secrets]
  verbs: [get, list, watch, create, patch]
- apiGroups: ['']
  resources: [events]
  # patch: an identical event bumps the count of the Event written (kube/event-correlator.ts).
  verbs: [create, patch]
# Workload reload (src/controllers/reload): informers on the workloads that may need a rollout,
# the rollout itself (a pod-template annotation, merge patch).
- apiGroups: [apps]
  resources: [deployments, statefulsets, daemonsets]
  verbs: [get, list, watch, patch]
# Argo Rollouts named as restart targets, when their CRD is installed: restarted Argo's way, a
# merge patch of spec.restartAt (the rule is harmless without the CRD).
- apiGroups: [argoproj.io]
  resources: [rollouts]
  verbs: [get, list, watch, patch]
{{- if .Values.config.operator.annotatePods }}
# SecretRotation restart.mode AnnotatePods (config.operator.annotatePods): the workload's pods
# are listed by its selector and annotated (merge patch of metadata.annotations).
- apiGroups: ['']
  resources: [pods]
  verbs: [list, patch]
{{- end }}
{{- if .Values.api.enabled }}
# The HTTP API triggers a sync or a rotation with a merge patch of one annotation
# (vaultsync.io/sync-now, vaultsync.io/rotate-now); the controllers answer in status.
- apiGroups: [vaultsync.io]
  resources: [vaultsecrets, secretrotations]
  verbs: [patch]
{{- end }}
{{- $sas := include "vaultsync.tokenServiceAccounts" . | fromJsonArray }}
{{- if $sas }}
# Vault Kubernetes auth: a short-lived token of the ServiceAccount in the resource's namespace.
- apiGroups: ['']
  resources: [serviceaccounts/token]
  verbs: [create]
  resourceNames: {{ toJson $sas }}
{{- end }}
{{- end }}
