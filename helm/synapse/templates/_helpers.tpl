{{/* Names, labels and values derived from several others, shared by the templates. */}}

{{- define "synapse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "synapse.fullname" -}}
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

{{/* Redis objects take a suffix, so leave room for it within 63 characters. */}}
{{- define "synapse.redisName" -}}
{{- printf "%s-redis" (include "synapse.fullname" . | trunc 57 | trimSuffix "-") }}
{{- end }}

{{- define "synapse.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "synapse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: synapse
{{- end }}

{{- define "synapse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "synapse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "synapse.gateway.selectorLabels" -}}
{{ include "synapse.selectorLabels" . }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "synapse.redis.selectorLabels" -}}
{{ include "synapse.selectorLabels" . }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "synapse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "synapse.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Orleans ids: also pod label values, hence at most 63 characters. */}}
{{- define "synapse.serviceId" -}}
{{- default (include "synapse.fullname" .) .Values.orleans.serviceId }}
{{- end }}

{{- define "synapse.clusterId" -}}
{{- default (include "synapse.fullname" .) .Values.orleans.clusterId }}
{{- end }}

{{- define "synapse.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "synapse.authSecretName" -}}
{{- default (include "synapse.fullname" .) .Values.auth.existingSecret }}
{{- end }}

{{/* Everything the kubelet allows for shutdown: the preStop sleep, the drain, then leaving the cluster. */}}
{{- define "synapse.terminationGracePeriodSeconds" -}}
{{- add .Values.shutdown.preStopSleepSeconds .Values.shutdown.drainTimeoutSeconds .Values.shutdown.extraSeconds }}
{{- end }}

{{/*
A generated secret value that survives upgrades: the given value if set, else the live Secret's, else random.
Arguments: dict with root, secret (Secret name), key, value. Prints the base64 form.
*/}}
{{- define "synapse.secretData" -}}
{{- if .value }}
{{- .value | b64enc }}
{{- else }}
{{- $live := lookup "v1" "Secret" .root.Release.Namespace .secret }}
{{- if and $live $live.data (hasKey $live.data .key) }}
{{- index $live.data .key }}
{{- else }}
{{- randAlphaNum 40 | b64enc }}
{{- end }}
{{- end }}
{{- end }}

{{/* Key groups (--config) are on when the chart renders the file or reads it from a Secret of yours. */}}
{{- define "synapse.keyGroups" -}}
{{- if or .Values.config.groups .Values.config.existingSecret }}true{{ end }}
{{- end }}

{{- define "synapse.configSecretName" -}}
{{- default (printf "%s-config" (include "synapse.fullname" . | trunc 56 | trimSuffix "-")) .Values.config.existingSecret }}
{{- end }}

{{/* Where every silo finds the key-groups file: the Secret, mounted whole as a directory. */}}
{{- define "synapse.configDirectory" -}}
/etc/synapse/config
{{- end }}

{{/* The file the chart renders from config.groups and config.adminKeys, in the syntax its name calls for. */}}
{{- define "synapse.keyGroupsFile" -}}
{{- $file := dict "groups" .Values.config.groups }}
{{- with .Values.config.adminKeys }}
{{- $_ := set $file "admin_keys" . }}
{{- end }}
{{- if hasSuffix ".json" (lower .Values.config.fileName) }}
{{- toPrettyJson $file }}
{{- else }}
{{- toYaml $file }}
{{- end }}
{{- end }}

{{/* Combinations the schema cannot express well enough to explain; each fails the render with the fix. */}}
{{- define "synapse.validate" -}}
{{- if and .Values.config.groups .Values.config.existingSecret }}
{{- fail "config.groups and config.existingSecret are both set: list the groups in values (the chart renders the file) or name a Secret holding your file, not both." }}
{{- end }}
{{- if and (include "synapse.keyGroups" .) (or .Values.auth.apiKey .Values.auth.wsKey .Values.auth.existingSecret) }}
{{- fail "key groups (config.groups or config.existingSecret) cannot be combined with auth.apiKey, auth.wsKey or auth.existingSecret: with key groups every key belongs to a group in the file. Move the keys into a group and unset the auth.* keys." }}
{{- end }}
{{- if and .Values.config.adminKeys (not .Values.config.groups) }}
{{- fail "config.adminKeys only goes into the file the chart renders from config.groups; with config.existingSecret, put admin_keys in your file." }}
{{- end }}
{{- end }}
