{{/* Common names and labels. */}}

{{- define "weft.labels" -}}
app.kubernetes.io/part-of: weft
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "weft.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The "restricted" Pod Security Standard, for every control-plane pod. */}}
{{- define "weft.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 2102
runAsGroup: 2102
fsGroup: 2102
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "weft.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The issuer comes from values only when all three parts are given. */}}
{{- define "weft.userIssuer" -}}
{{- with .Values.identity.issuer -}}
{{- if or .rootCertificate .certificate .key -}}
{{- if not (and .rootCertificate .certificate .key) -}}
{{- fail "identity.issuer: give rootCertificate, certificate and key together, or none of them" -}}
{{- end -}}
true
{{- end -}}
{{- end -}}
{{- end }}
