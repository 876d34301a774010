{{- define "posture.labels" -}}
app.kubernetes.io/name: posture
app.kubernetes.io/component: watch
{{- end }}

{{- define "posture.port" -}}
{{- splitList ":" .Values.listen | last -}}
{{- end }}
