"""The create screen's starting points: pods worth knowing, each valid as it stands."""

from __future__ import annotations

TEMPLATES: dict[str, str] = {
    "nginx": """apiVersion: v1
kind: Pod
metadata:
  name: nginx
  labels:
    app: nginx
spec:
  containers:
  - name: nginx
    image: nginx:1.14.2
    ports:
    - containerPort: 80
""",
    "web + sidecar sharing an emptyDir": """apiVersion: v1
kind: Pod
metadata:
  name: web-with-sidecar
spec:
  volumes:
  - name: shared
    emptyDir: {}
  initContainers:
  - name: log-shipper
    image: busybox:1.36
    restartPolicy: Always
    command: ["sh", "-c", "touch /var/log/app/access.log; tail -F /var/log/app/access.log"]
    volumeMounts:
    - name: shared
      mountPath: /var/log/app
  containers:
  - name: web
    image: busybox:1.36
    command: ["sh", "-c", "while true; do date >> /var/log/app/access.log; sleep 2; done"]
    volumeMounts:
    - name: shared
      mountPath: /var/log/app
""",
    "init containers": """apiVersion: v1
kind: Pod
metadata:
  name: with-init
spec:
  initContainers:
  - name: wait-a-moment
    image: busybox:1.36
    command: ["sh", "-c", "echo preparing; sleep 2"]
  - name: write-config
    image: busybox:1.36
    command: ["sh", "-c", "echo ready > /work/config"]
    volumeMounts:
    - name: work
      mountPath: /work
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "cat /work/config; sleep 3600"]
    volumeMounts:
    - name: work
      mountPath: /work
  volumes:
  - name: work
    emptyDir: {}
""",
    "probes": """apiVersion: v1
kind: Pod
metadata:
  name: probed
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "touch /tmp/healthy; sleep 3600"]
    startupProbe:
      exec:
        command: ["cat", "/tmp/healthy"]
      periodSeconds: 1
      failureThreshold: 10
    livenessProbe:
      exec:
        command: ["cat", "/tmp/healthy"]
      periodSeconds: 5
    readinessProbe:
      exec:
        command: ["cat", "/tmp/healthy"]
      periodSeconds: 2
""",
    "hardened securityContext": """apiVersion: v1
kind: Pod
metadata:
  name: hardened
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000
    runAsGroup: 1000
    seccompProfile:
      type: RuntimeDefault
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "id; sleep 3600"]
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        drop: ["ALL"]
""",
}
