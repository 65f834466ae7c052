{{/*
The gateway's environment: its flags (README, "Gateway flags") and what Orleans' Kubernetes hosting reads.
Order matters: Kubernetes expands $(VAR) only from variables defined above it.
*/}}
{{- define "synapse.gateway.env" -}}
# Pod identity from the downward API, for Orleans' UseKubernetesHosting().
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
# Read from the pod's own labels, so the ids can never differ from the labels Orleans selects pods by.
- name: ORLEANS_SERVICE_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.labels['orleans/serviceId']
- name: ORLEANS_CLUSTER_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.labels['orleans/clusterId']
- name: SYNAPSE_SERVICE_ID
  value: $(ORLEANS_SERVICE_ID)
- name: SYNAPSE_CLUSTER_ID
  value: $(ORLEANS_CLUSTER_ID)
- name: SYNAPSE_ADVERTISE_ADDRESS
  value: $(POD_IP)
- name: SYNAPSE_HOST
  value: "0.0.0.0"
- name: SYNAPSE_PORT
  value: {{ .Values.ports.http | quote }}
- name: SYNAPSE_SILO_PORT
  value: {{ .Values.ports.silo | quote }}
- name: SYNAPSE_GATEWAY_PORT
  value: {{ .Values.ports.gateway | quote }}
- name: SYNAPSE_DRAIN_TIMEOUT
  value: {{ .Values.shutdown.drainTimeoutSeconds | quote }}
- name: SYNAPSE_TRUST_FORWARDED_HEADERS
  value: {{ .Values.gateway.trustForwardedHeaders | quote }}
{{- if include "synapse.keyGroups" . }}
# Key groups: the file in the Secret mounted at synapse.configDirectory, reloaded by the gateway when it changes.
- name: SYNAPSE_CONFIG
  value: {{ printf "%s/%s" (include "synapse.configDirectory" .) .Values.config.fileName | quote }}
{{- else }}
- name: SYNAPSE_API_AUTH_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "synapse.authSecretName" . }}
      key: {{ .Values.auth.apiKeyName }}
- name: SYNAPSE_WS_AUTH_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "synapse.authSecretName" . }}
      key: {{ .Values.auth.wsKeyName }}
{{- end }}
{{- if .Values.redis.enabled }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "synapse.redisName" . }}
      key: redis-password
# abortConnect=false: a silo that starts before Redis keeps retrying instead of exiting.
- name: SYNAPSE_REDIS
  value: "{{ include "synapse.redisName" . }}:6379,password=$(REDIS_PASSWORD),abortConnect=false"
{{- else }}
- name: SYNAPSE_REDIS
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.external.existingSecret }}
      key: {{ .Values.redis.external.existingSecretKey }}
{{- end }}
- name: OTEL_SERVICE_NAME
  value: {{ .Values.otel.serviceName | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ include "synapse.otelResourceAttributes" . | quote }}
{{- with .Values.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- with .Values.otel.protocol }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.gateway.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The pod's own attributes, then the user's (sorted, so renders are stable). The gateway adds its version. */}}
{{- define "synapse.otelResourceAttributes" -}}
{{- $attrs := list "k8s.pod.name=$(POD_NAME)" "k8s.namespace.name=$(POD_NAMESPACE)" }}
{{- range $key := keys .Values.otel.resourceAttributes | sortAlpha }}
{{- $attrs = append $attrs (printf "%s=%s" $key (index $.Values.otel.resourceAttributes $key)) }}
{{- end }}
{{- join "," $attrs }}
{{- end }}
