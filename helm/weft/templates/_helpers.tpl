{{/* Common names and labels. */}}

{{- define "weft.labels" -}}
app.kubernetes.io/part-of: weft
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* <registry>/<name>:<tag> for a component: include "weft.image" (list . .Values.operator.image) */}}
{{- define "weft.image" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- $tag := $image.tag | default $root.Values.image.tag | default $root.Chart.AppVersion -}}
{{- printf "%s/%s:%s" $root.Values.image.registry $image.name $tag -}}
{{- end }}

{{/* The namespaces the injector never sees: the system ones, Weft's own, and the user's. */}}
{{- define "weft.excludedNamespaces" -}}
{{- $names := list "kube-system" "kube-public" "kube-node-lease" .Release.Namespace -}}
{{- range .Values.injector.excludedNamespaces }}{{ $names = append $names . }}{{ end -}}
{{- toJson (uniq $names) -}}
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
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Scheduling for a component: its replicas spread over nodes (and zones) and,
unless the user gives an affinity, prefer different nodes.
include "weft.scheduling" (list . .Values.operator "weft-operator")
*/}}
{{- define "weft.scheduling" -}}
{{- $values := index . 1 -}}
{{- $name := index . 2 -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        app.kubernetes.io/name: {{ $name }}
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        app.kubernetes.io/name: {{ $name }}
affinity:
{{- if $values.affinity }}
  {{- toYaml $values.affinity | nindent 2 }}
{{- else }}
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              app.kubernetes.io/name: {{ $name }}
{{- end }}
{{- with $values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{/*
A PodDisruptionBudget that a drain can satisfy: at least one pod may go.
include "weft.checkDisruptionBudget" (list .Values.operator "operator")
*/}}
{{- define "weft.checkDisruptionBudget" -}}
{{- $values := index . 0 -}}
{{- $name := index . 1 -}}
{{- if ge (int $values.podDisruptionBudget.minAvailable) (int $values.replicas) -}}
{{- fail (printf "%s.podDisruptionBudget.minAvailable (%d) must be less than %s.replicas (%d): otherwise no node running it could ever be drained" $name (int $values.podDisruptionBudget.minAvailable) $name (int $values.replicas)) -}}
{{- end -}}
{{- end }}

{{/* The issuer comes from values only when all three parts are given. */}}
{{- define "weft.userIssuer" -}}
{{- with .Values.identity.issuer -}}
{{- if or .rootCertificate .certificate .key -}}
{{- if not (and .rootCertificate .certificate .key) -}}
{{- fail "identity.issuer: give rootCertificate, certificate and key together, or none of them (the operator then makes its own root)" -}}
{{- end -}}
true
{{- end -}}
{{- end -}}
{{- end }}
