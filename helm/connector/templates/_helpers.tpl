{{/* Names */}}
{{- define "connector.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "connector.fullname" -}}
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

{{- define "connector.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "connector.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: openai-audit-connector
{{- end }}

{{- define "connector.selectorLabels" -}}
app.kubernetes.io/name: {{ include "connector.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "connector.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "connector.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "connector.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* Settings the chart reads */}}
{{- define "connector.sinkType" -}}
{{- (.Values.config.sink | default dict).type | default "file" }}
{{- end }}

{{- define "connector.checkpointBackend" -}}
{{- (.Values.config.checkpoint | default dict).backend | default "sqlite" }}
{{- end }}

{{/* StatefulSet with a PVC for the SQLite checkpoint; Deployment (Recreate) when the checkpoint is in Kafka */}}
{{- define "connector.kind" -}}
{{- if eq (include "connector.checkpointBackend" .) "kafka" }}Deployment{{ else }}StatefulSet{{ end }}
{{- end }}

{{- define "connector.secretName" -}}
{{- default (include "connector.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{/* The Kafka security protocol uses SASL */}}
{{- define "connector.sasl" -}}
{{- $sink := .Values.config.sink | default dict }}
{{- if and (eq (include "connector.sinkType" .) "kafka") (hasPrefix "SASL_" ($sink.security_protocol | default "PLAINTEXT")) }}true{{ end }}
{{- end }}

{{/* The port of a URL: explicit, or 443 / 80 by scheme */}}
{{- define "connector.urlPort" -}}
{{- $url := urlParse . }}
{{- $parts := splitList ":" $url.host }}
{{- if and (gt (len $parts) 1) (regexMatch "^[0-9]+$" (last $parts)) }}
{{- last $parts }}
{{- else if eq $url.scheme "http" }}80{{ else }}443{{ end }}
{{- end }}

{{/* Egress ports of the sink, as a JSON list: networkPolicy.sinkPorts, or derived from the settings */}}
{{- define "connector.sinkPorts" -}}
{{- $sink := .Values.config.sink | default dict }}
{{- $ports := list }}
{{- if .Values.networkPolicy.sinkPorts }}
{{- $ports = .Values.networkPolicy.sinkPorts }}
{{- else if eq (include "connector.sinkType" .) "kafka" }}
{{- $servers := $sink.bootstrap_servers | default list }}
{{- if kindIs "string" $servers }}{{ $servers = splitList "," $servers }}{{ end }}
{{- range $servers }}
{{- $p := last (splitList ":" (trim .)) }}
{{- if regexMatch "^[0-9]+$" $p }}{{ $ports = append $ports (atoi $p) }}{{ else }}{{ $ports = append $ports 9092 }}{{ end }}
{{- end }}
{{- else if and (eq (include "connector.sinkType" .) "splunk_hec") $sink.url }}
{{- $ports = append $ports (atoi (include "connector.urlPort" $sink.url)) }}
{{- end }}
{{- $ports | uniq | toJson }}
{{- end }}

{{- define "connector.apiPort" -}}
{{- include "connector.urlPort" ((.Values.config.openai | default dict).base_url | default "https://api.openai.com/v1") }}
{{- end }}
