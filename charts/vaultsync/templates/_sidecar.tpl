{{/*
The vaultsync sidecar (docs/sidecar.md), for pod templates: a native sidecar (Kubernetes 1.28+,
an init container with restartPolicy: Always) and its volumes. In a pod spec:
  initContainers:
    {{- include "vaultsync.sidecar.initContainer" . | nindent 4 }}
  containers:
    - name: app
      volumeMounts:
        {{- include "vaultsync.sidecar.socketMount" . | nindent 8 }}
  volumes:
    {{- include "vaultsync.sidecar.volumes" . | nindent 4 }}
*/}}
{{- define "vaultsync.sidecar.initContainer" -}}
- name: vaultsync-sidecar
  image: {{ .Values.sidecar.image | default (include "vaultsync.image" .) }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  restartPolicy: Always
  args: [sidecar, --config, /etc/vaultsync-sidecar/config.yaml]
  # The app's containers start once the socket answers.
  startupProbe:
    exec:
      command:
        - node
        - -e
        - "require('net').connect('/run/vaultsync/vaultsync.sock').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"
    periodSeconds: 1
    failureThreshold: 30
  resources: {{- toYaml .Values.sidecar.resources | nindent 4 }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    capabilities: {drop: [ALL]}
    seccompProfile: {type: RuntimeDefault}
  volumeMounts:
    - {name: vaultsync-socket, mountPath: /run/vaultsync}
    - {name: vaultsync-token, mountPath: /var/run/secrets/vaultsync, readOnly: true}
    - {name: vaultsync-sidecar-config, mountPath: /etc/vaultsync-sidecar, readOnly: true}
{{- end }}

{{- define "vaultsync.sidecar.socketMount" -}}
- {name: vaultsync-socket, mountPath: /run/vaultsync}
{{- end }}

{{- define "vaultsync.sidecar.volumes" -}}
- name: vaultsync-socket
  emptyDir: {medium: Memory, sizeLimit: 1Mi}
- name: vaultsync-token
  projected:
    sources:
      - serviceAccountToken:
          path: token
          audience: {{ .Values.sidecar.tokenAudience | quote }}
          expirationSeconds: {{ .Values.sidecar.tokenExpirationSeconds }}
- name: vaultsync-sidecar-config
  configMap: {name: vaultsync-sidecar}
{{- end }}

{{/* The sidecar's config file. */}}
{{- define "vaultsync.sidecar.config" -}}
{{- $own := dict "listen" (dict "socket" "/run/vaultsync/vaultsync.sock" "socketMode" .Values.sidecar.socketMode) "serviceAccountToken" (dict "path" "/var/run/secrets/vaultsync/token" "audience" .Values.sidecar.tokenAudience) }}
{{- toYaml (dict "sidecar" (merge $own (deepCopy .Values.sidecar.settings)) "backends" .Values.sidecar.backends) }}
{{- end }}
