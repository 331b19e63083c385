"""Validation rules, each with a failing case in the API server's words (and valid neighbours)."""

from typing import Any

import pytest

from tests.unit.specutil import container, errors, pod, warnings

C = container


def c2(**fields: Any) -> dict[str, Any]:
    return container(name="d", **fields)


CASES: list[tuple[str, dict[str, Any], str]] = [
    ("duplicate container name", pod(containers=[C(name="web"), C(name="web")]),
     'spec.containers[1].name: Duplicate value: "web"'),
    ("name unique across lists", pod(initContainers=[C(name="c")]),
     'spec.containers[0].name: Duplicate value: "c"'),
    ("port range", pod(containers=[C(ports=[{"containerPort": 70000}])]),
     "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"),
    ("port required", pod(containers=[C(ports=[{"name": "http"}])]),
     "spec.containers[0].ports[0].containerPort: Required value"),
    ("host port range", pod(containers=[C(ports=[{"containerPort": 80, "hostPort": 99999}])]),
     "spec.containers[0].ports[0].hostPort: Invalid value: 99999: must be between 1 and 65535, inclusive"),
    ("host port unique", pod(containers=[C(ports=[{"containerPort": 80, "hostPort": 8080}]),
                                         c2(ports=[{"containerPort": 81, "hostPort": 8080}])]),
     'spec.containers[1].ports[0].hostPort: Duplicate value: "8080/TCP"'),
    ("port name unique", pod(containers=[C(ports=[{"name": "http", "containerPort": 80},
                                                  {"name": "http", "containerPort": 81}])]),
     'spec.containers[0].ports[1].name: Duplicate value: "http"'),
    ("port name format", pod(containers=[C(ports=[{"name": "HTTP", "containerPort": 80}])]),
     'spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain only alpha-numeric characters'),
    ("protocol", pod(containers=[C(ports=[{"containerPort": 80, "protocol": "ICMP"}])]),
     'spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'),
    ("host network ports", pod(hostNetwork=True, containers=[C(ports=[{"containerPort": 80, "hostPort": 81}])]),
     "spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork`"),
    ("pod name", {**pod(), "metadata": {"name": "Web_1"}},
     'metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain must consist of'),
    ("name required", {**pod(), "metadata": {}}, "metadata.name: Required value: name or generateName is required"),
    ("namespace", {**pod(), "metadata": {"name": "p", "namespace": "a.b"}},
     'metadata.namespace: Invalid value: "a.b": a lowercase RFC 1123 label must consist of'),
    ("container name", pod(containers=[C(name="Web")]),
     'spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label'),
    ("container name length", pod(containers=[C(name="a" * 64)]),
     "must be no more than 63 characters"),
    ("label key", {**pod(), "metadata": {"name": "p", "labels": {"-bad": "x"}}},
     'metadata.labels: Invalid value: "-bad": name part must consist of alphanumeric characters'),
    ("label value", {**pod(), "metadata": {"name": "p", "labels": {"app": "a b"}}},
     'metadata.labels: Invalid value: "a b": a valid label must be an empty string or consist of'),
    ("label prefix", {**pod(), "metadata": {"name": "p", "labels": {"Example.com/a": "x"}}},
     'metadata.labels: Invalid value: "Example.com/a": prefix part a lowercase RFC 1123 subdomain'),
    ("annotation key", {**pod(), "metadata": {"name": "p", "annotations": {"a/b/c": "x"}}},
     'metadata.annotations: Invalid value: "a/b/c": a qualified name must consist of'),
    ("image required", pod(containers=[{"name": "c"}]), "spec.containers[0].image: Required value"),
    ("image whitespace", pod(containers=[C(image=" busybox")]),
     "spec.containers[0].image: Invalid value: \" busybox\": must not have leading or trailing whitespace"),
    ("containers required", pod(containers=[]), "spec.containers: Required value"),
    ("pull policy", pod(containers=[C(imagePullPolicy="Sometimes")]),
     'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", '
     '"IfNotPresent", "Never"'),
    ("restart policy", pod(restartPolicy="Sometimes"),
     'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'),
    ("dns policy", pod(dnsPolicy="Google"), 'spec.dnsPolicy: Unsupported value: "Google"'),
    ("dns none needs config", pod(dnsPolicy="None"),
     "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"),
    ("dns nameservers", pod(dnsConfig={"nameservers": ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"]}),
     "spec.dnsConfig.nameservers: Invalid value: [\"1.1.1.1\", \"2.2.2.2\", \"3.3.3.3\", \"4.4.4.4\"]: must not "
     "have more than 3 nameservers"),
    ("dns nameserver ip", pod(dnsConfig={"nameservers": ["dns.example"]}),
     'spec.dnsConfig.nameservers[0]: Invalid value: "dns.example": must be a valid IP address'),
    ("one probe handler", pod(containers=[C(livenessProbe={"httpGet": {"port": 80}, "tcpSocket": {"port": 80}})]),
     "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"),
    ("probe needs handler", pod(containers=[C(readinessProbe={"periodSeconds": 5})]),
     "spec.containers[0].readinessProbe: Required value: must specify a handler type"),
    ("liveness success threshold", pod(containers=[C(livenessProbe={"exec": {"command": ["true"]},
                                                                    "successThreshold": 2})]),
     "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"),
    ("startup success threshold", pod(containers=[C(startupProbe={"exec": {"command": ["true"]},
                                                                  "successThreshold": 3})]),
     "spec.containers[0].startupProbe.successThreshold: Invalid value: 3: must be 1"),
    ("probe negative", pod(containers=[C(readinessProbe={"exec": {"command": ["true"]},
                                                         "initialDelaySeconds": -1})]),
     "spec.containers[0].readinessProbe.initialDelaySeconds: Invalid value: -1: must be greater than or equal to 0"),
    ("readiness grace", pod(containers=[C(readinessProbe={"exec": {"command": ["true"]},
                                                          "terminationGracePeriodSeconds": 5})]),
     "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for "
     "readinessProbes"),
    ("probe port", pod(containers=[C(livenessProbe={"tcpSocket": {"port": 0}})]),
     "spec.containers[0].livenessProbe.tcpSocket.port: Required value"),
    ("probe port name", pod(containers=[C(livenessProbe={"httpGet": {"port": "8080"}})]),
     'spec.containers[0].livenessProbe.httpGet.port: Invalid value: "8080": must contain at least one letter'),
    ("probe scheme", pod(containers=[C(livenessProbe={"httpGet": {"port": 80, "scheme": "FTP"}})]),
     'spec.containers[0].livenessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", '
     '"HTTPS"'),
    ("exec command", pod(containers=[C(livenessProbe={"exec": {}})]),
     "spec.containers[0].livenessProbe.exec.command: Required value"),
    ("grpc port", pod(containers=[C(livenessProbe={"grpc": {"port": 0}})]),
     "spec.containers[0].livenessProbe.grpc.port: Invalid value: 0: must be between 1 and 65535, inclusive"),
    ("init probes", pod(initContainers=[C(name="i", livenessProbe={"exec": {"command": ["true"]}})]),
     "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without "
     "restartPolicy=Always"),
    ("init lifecycle", pod(initContainers=[C(name="i", lifecycle={"preStop": {"sleep": {"seconds": 1}}})]),
     "spec.initContainers[0].lifecycle: Forbidden: may not be set for init containers without restartPolicy=Always"),
    ("init restart policy", pod(initContainers=[C(name="i", restartPolicy="Never")]),
     'spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"'),
    ("app restart policy", pod(containers=[C(restartPolicy="Always")]),
     "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"),
    ("mount names a volume", pod(containers=[C(volumeMounts=[{"name": "data", "mountPath": "/d"}])]),
     'spec.containers[0].volumeMounts[0].name: Not found: "data"'),
    ("mount path required", pod(volumes=[{"name": "v"}], containers=[C(volumeMounts=[{"name": "v"}])]),
     "spec.containers[0].volumeMounts[0].mountPath: Required value"),
    ("mount path unique", pod(volumes=[{"name": "v"}], containers=[C(volumeMounts=[
        {"name": "v", "mountPath": "/d"}, {"name": "v", "mountPath": "/d"}])]),
     'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/d": must be unique'),
    ("subPath relative", pod(volumes=[{"name": "v"}], containers=[C(volumeMounts=[
        {"name": "v", "mountPath": "/d", "subPath": "../etc"}])]),
     "spec.containers[0].volumeMounts[0].subPath: Invalid value: \"../etc\": must not contain '..'"),
    ("subPath absolute", pod(volumes=[{"name": "v"}], containers=[C(volumeMounts=[
        {"name": "v", "mountPath": "/d", "subPath": "/etc"}])]),
     'spec.containers[0].volumeMounts[0].subPath: Invalid value: "/etc": must be a relative path'),
    ("subPathExpr exclusive", pod(volumes=[{"name": "v"}], containers=[C(volumeMounts=[
        {"name": "v", "mountPath": "/d", "subPath": "a", "subPathExpr": "$(X)"}])]),
     "spec.containers[0].volumeMounts[0].subPathExpr: Invalid value: \"$(X)\": subPathExpr and subPath are "
     "mutually exclusive"),
    ("bidirectional needs privileged", pod(volumes=[{"name": "v"}], containers=[C(volumeMounts=[
        {"name": "v", "mountPath": "/d", "mountPropagation": "Bidirectional"}])]),
     "spec.containers[0].volumeMounts[0].mountPropagation: Forbidden: Bidirectional mount propagation is "
     "available only to privileged containers"),
    ("propagation value", pod(volumes=[{"name": "v"}], containers=[C(volumeMounts=[
        {"name": "v", "mountPath": "/d", "mountPropagation": "Shared"}])]),
     'mountPropagation: Unsupported value: "Shared"'),
    ("recursive read-only", pod(volumes=[{"name": "v"}], containers=[C(volumeMounts=[
        {"name": "v", "mountPath": "/d", "recursiveReadOnly": "Enabled"}])]),
     "recursiveReadOnly: Forbidden: may only be specified when readOnly is true"),
    ("volume name", pod(volumes=[{"name": "Data"}]),
     'spec.volumes[0].name: Invalid value: "Data": a lowercase RFC 1123 label'),
    ("volume name unique", pod(volumes=[{"name": "v"}, {"name": "v"}]),
     'spec.volumes[1].name: Duplicate value: "v"'),
    ("one volume source", pod(volumes=[{"name": "v", "emptyDir": {}, "hostPath": {"path": "/tmp"}}]),
     "spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type"),
    ("hostPath type", pod(volumes=[{"name": "v", "hostPath": {"path": "/tmp", "type": "Dir"}}]),
     'spec.volumes[0].hostPath.type: Unsupported value: "Dir"'),
    ("hostPath path", pod(volumes=[{"name": "v", "hostPath": {"path": ""}}]),
     "spec.volumes[0].hostPath.path: Required value"),
    ("emptyDir medium", pod(volumes=[{"name": "v", "emptyDir": {"medium": "Disk"}}]),
     'spec.volumes[0].emptyDir.medium: Unsupported value: "Disk"'),
    ("emptyDir size", pod(volumes=[{"name": "v", "emptyDir": {"sizeLimit": "-1Gi"}}]),
     'spec.volumes[0].emptyDir.sizeLimit: Invalid value: "-1Gi": must be greater than or equal to 0'),
    ("secret name", pod(volumes=[{"name": "v", "secret": {}}]), "spec.volumes[0].secret.secretName: Required value"),
    ("configMap name", pod(volumes=[{"name": "v", "configMap": {}}]), "spec.volumes[0].configMap.name: Required value"),
    ("item path", pod(volumes=[{"name": "v", "configMap": {"name": "c", "items": [{"key": "k", "path": "../x"}]}}]),
     "spec.volumes[0].configMap.items[0].path: Invalid value: \"../x\": must not contain '..'"),
    ("file mode", pod(volumes=[{"name": "v", "secret": {"secretName": "s", "defaultMode": 4096}}]),
     "spec.volumes[0].secret.defaultMode: Invalid value: 4096: must be a number between 0 and 0777 (octal)"),
    ("downward field", pod(volumes=[{"name": "v", "downwardAPI": {"items": [
        {"path": "x", "fieldRef": {"fieldPath": "status.podIP"}}]}}]),
     'spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath: Unsupported value: "status.podIP"'),
    ("downward container", pod(volumes=[{"name": "v", "downwardAPI": {"items": [
        {"path": "x", "resourceFieldRef": {"resource": "limits.cpu"}}]}}]),
     "spec.volumes[0].downwardAPI.items[0].resourceFieldRef.containerName: Required value"),
    ("projected paths", pod(volumes=[{"name": "v", "projected": {"sources": [
        {"configMap": {"name": "a", "items": [{"key": "k", "path": "f"}]}},
        {"secret": {"name": "b", "items": [{"key": "k", "path": "f"}]}}]}}]),
     'spec.volumes[0].projected.sources[1].secret.items[0].path: Invalid value: "f": conflicting duplicate paths'),
    ("claim name", pod(volumes=[{"name": "v", "persistentVolumeClaim": {}}]),
     "spec.volumes[0].persistentVolumeClaim.claimName: Required value"),
    ("env name", pod(containers=[C(env=[{"name": "A=B"}])]),
     'spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only '
     "of printable ASCII characters other than '='"),
    ("env name required", pod(containers=[C(env=[{"value": "x"}])]), "spec.containers[0].env[0].name: Required value"),
    ("env value and valueFrom", pod(containers=[C(env=[{"name": "A", "value": "x", "valueFrom": {
        "fieldRef": {"fieldPath": "metadata.name"}}}])]),
     'spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty'),
    ("env two sources", pod(containers=[C(env=[{"name": "A", "valueFrom": {
        "fieldRef": {"fieldPath": "metadata.name"}, "configMapKeyRef": {"name": "c", "key": "k"}}}])]),
     'spec.containers[0].env[0].valueFrom: Invalid value: "": may not have more than one field specified at a time'),
    ("env field path", pod(containers=[C(env=[{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.x"}}}])]),
     'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.x"'),
    ("env key ref", pod(containers=[C(env=[{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s"}}}])]),
     "spec.containers[0].env[0].valueFrom.secretKeyRef.key: Required value"),
    ("env resource", pod(containers=[C(env=[{"name": "A", "valueFrom": {
        "resourceFieldRef": {"resource": "limits.gpu"}}}])]),
     'spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: Unsupported value: "limits.gpu"'),
    ("envFrom one ref", pod(containers=[C(envFrom=[{"prefix": "A_"}])]),
     'spec.containers[0].envFrom[0]: Invalid value: "": must specify one of: `configMapRef` or `secretRef`'),
    ("quantity syntax", pod(containers=[C(resources={"limits": {"memory": "1 GB"}})]),
     "spec.containers[0].resources.limits[memory]: Invalid value: \"1 GB\": quantities must match the regular "
     "expression"),
    ("resource name", pod(containers=[C(resources={"limits": {"gpu": "1"}})]),
     'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers'),
    ("requests above limits", pod(containers=[C(resources={"limits": {"cpu": "1"}, "requests": {"cpu": "2"}})]),
     'spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1'),
    ("negative resource", pod(containers=[C(resources={"requests": {"memory": "-1"}})]),
     'spec.containers[0].resources.requests[memory]: Invalid value: "-1": must be greater than or equal to 0'),
    ("extended integer", pod(containers=[C(resources={"limits": {"example.com/dongle": "0.5"}})]),
     'spec.containers[0].resources.limits[example.com/dongle]: Invalid value: "500m": must be an integer'),
    ("pod-level resource names", pod(resources={"limits": {"ephemeral-storage": "1Gi"}}),
     'spec.resources.limits[ephemeral-storage]: Unsupported value: "ephemeral-storage"'),
    ("container above pod limit", pod(resources={"limits": {"cpu": "1"}},
                                      containers=[C(resources={"limits": {"cpu": "2"}})]),
     'spec.containers[0].resources.limits[cpu]: Invalid value: "2": must be less than or equal to pod limits'),
    ("ephemeral ports", pod(ephemeralContainers=[{"name": "dbg", "image": "busybox", "ports": [
        {"containerPort": 80}]}]),
     "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container"),
    ("ephemeral probes", pod(ephemeralContainers=[{"name": "dbg", "image": "busybox",
                                                   "readinessProbe": {"exec": {"command": ["true"]}}}]),
     "spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container"),
    ("ephemeral resources", pod(ephemeralContainers=[{"name": "dbg", "image": "busybox",
                                                      "resources": {"limits": {"cpu": "1"}}}]),
     "spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container"),
    ("ephemeral lifecycle", pod(ephemeralContainers=[{"name": "dbg", "image": "busybox",
                                                      "lifecycle": {"preStop": {"sleep": {"seconds": 1}}}}]),
     "spec.ephemeralContainers[0].lifecycle: Forbidden: cannot be set for an Ephemeral Container"),
    ("ephemeral subPath", pod(volumes=[{"name": "v"}], ephemeralContainers=[{
        "name": "dbg", "image": "busybox", "volumeMounts": [{"name": "v", "mountPath": "/v", "subPath": "x"}]}]),
     "spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container"),
    ("ephemeral target", pod(ephemeralContainers=[{"name": "dbg", "image": "busybox",
                                                   "targetContainerName": "nope"}]),
     'spec.ephemeralContainers[0].targetContainerName: Not found: "nope"'),
    ("handler type", pod(containers=[C(lifecycle={"postStart": {}})]),
     "spec.containers[0].lifecycle.postStart: Required value: must specify a handler type"),
    ("sleep seconds", pod(containers=[C(lifecycle={"preStop": {"sleep": {"seconds": 60}}})]),
     "spec.containers[0].lifecycle.preStop.sleep.seconds: Invalid value: 60: must be non-negative and less than "
     "terminationGracePeriodSeconds (30)"),
    ("stop signal needs os", pod(containers=[C(lifecycle={"stopSignal": "SIGUSR1"})]),
     "spec.containers[0].lifecycle.stopSignal: Forbidden: may not be set for containers with empty `spec.os.name`"),
    ("stop signal name", pod(os={"name": "linux"}, containers=[C(lifecycle={"stopSignal": "SIGFOO"})]),
     'spec.containers[0].lifecycle.stopSignal: Unsupported value: "SIGFOO"'),
    ("privileged and no escalation", pod(containers=[C(securityContext={"privileged": True,
                                                                       "allowPrivilegeEscalation": False})]),
     'spec.containers[0].securityContext: Invalid value: "": cannot set `allowPrivilegeEscalation` to false and '
     "`privileged` to true"),
    ("sys_admin and no escalation", pod(containers=[C(securityContext={
        "capabilities": {"add": ["SYS_ADMIN"]}, "allowPrivilegeEscalation": False})]),
     "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"),
    ("run as user range", pod(containers=[C(securityContext={"runAsUser": -1})]),
     "spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive"),
    ("proc mount", pod(containers=[C(securityContext={"procMount": "Unmasked"})]),
     'spec.containers[0].securityContext.procMount: Invalid value: "Unmasked": `hostUsers` must be false to use '
     "`Unmasked`"),
    ("seccomp type", pod(securityContext={"seccompProfile": {"type": "Strict"}}),
     'spec.securityContext.seccompProfile.type: Unsupported value: "Strict": supported values: "Localhost", '
     '"RuntimeDefault", "Unconfined"'),
    ("seccomp localhost", pod(containers=[C(securityContext={"seccompProfile": {"type": "Localhost"}})]),
     "spec.containers[0].securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp "
     "type is Localhost"),
    ("seccomp localhost only", pod(securityContext={"seccompProfile": {"type": "RuntimeDefault",
                                                                      "localhostProfile": "x.json"}}),
     'spec.securityContext.seccompProfile.localhostProfile: Invalid value: "x.json": can only be set when seccomp '
     "type is Localhost"),
    ("sysctl name", pod(securityContext={"sysctls": [{"name": "Net..x", "value": "1"}]}),
     'spec.securityContext.sysctls[0].name: Invalid value: "Net..x": must have at most 253 characters'),
    ("fsGroup", pod(securityContext={"fsGroup": -5}),
     "spec.securityContext.fsGroup: Invalid value: -5: must be between 0 and 2147483647, inclusive"),
    ("hostUsers false", pod(hostUsers=False, hostNetwork=True),
     "spec.hostNetwork: Forbidden: when `pod.Spec.HostUsers` is false"),
    ("share pid and host pid", pod(shareProcessNamespace=True, hostPID=True),
     "spec.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled"),
    ("hostname", pod(hostname="my_host"), 'spec.hostname: Invalid value: "my_host": a lowercase RFC 1123 label'),
    ("host alias ip", pod(hostAliases=[{"ip": "999.1.1.1", "hostnames": ["a"]}]),
     'spec.hostAliases[0].ip: Invalid value: "999.1.1.1": must be a valid IP address'),
    ("deadline", pod(activeDeadlineSeconds=0),
     "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"),
    ("grace", pod(terminationGracePeriodSeconds=-1),
     "spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0"),
    ("os name", pod(os={"name": "plan9"}), 'spec.os.name: Unsupported value: "plan9"'),
    ("termination message policy", pod(containers=[C(terminationMessagePolicy="Always")]),
     'spec.containers[0].terminationMessagePolicy: Unsupported value: "Always"'),
]


@pytest.mark.parametrize(("manifest", "expected"), [(m, e) for _, m, e in CASES], ids=[n for n, _, _ in CASES])
def test_rule(manifest: dict[str, Any], expected: str) -> None:
    found = errors(manifest)
    assert any(expected in message for message in found), found


def test_all_errors_are_reported_at_once() -> None:
    found = errors(pod(restartPolicy="Sometimes", containers=[
        C(name="Web", ports=[{"containerPort": 0}], image=""), C(name="Web")]))
    assert len(found) == 6, found


def test_decode_errors_do_not_stop_validation_nor_repeat() -> None:
    found = errors(pod(restartPolicy="Sometimes", containers=[C(image=5)]))
    assert found == [
        "spec.containers[0].image: Invalid type: 5: expected a string, got an integer (quote it: YAML reads "
        "yes/no/on/off/true/false and bare numbers as non-strings)",
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']


VALID = [
    pod(initContainers=[C(name="side", restartPolicy="Always", readinessProbe={"exec": {"command": ["true"]}},
                          startupProbe={"tcpSocket": {"port": 80}}, lifecycle={"preStop": {"sleep": {"seconds": 0}}})]),
    pod(containers=[C(ports=[{"name": "web", "containerPort": 80}], livenessProbe={"httpGet": {"port": "web"}})]),
    pod(containers=[C(env=[{"name": "1.weird-but.valid"}])]),
    pod(containers=[C(resources={"limits": {"cpu": "500m", "memory": "1Gi", "hugepages-2Mi": "2Mi"},
                                 "requests": {"hugepages-2Mi": "2Mi"}})]),
    pod(hostUsers=False, containers=[C(securityContext={"procMount": "Unmasked"})]),
    pod(dnsPolicy="None", dnsConfig={"nameservers": ["1.1.1.1"], "searches": ["a.example", "."]}),
    pod(volumes=[{"name": "v", "emptyDir": {"mode": 0o1777}}]),
    pod(resources={"limits": {"pids": "2048"}}),
    pod(containers=[C(securityContext={"privileged": True}, volumeMounts=[
        {"name": "v", "mountPath": "/d", "mountPropagation": "Bidirectional"}])], volumes=[{"name": "v"}]),
    pod(ephemeralContainers=[{"name": "dbg", "image": "busybox", "targetContainerName": "c", "stdin": True,
                              "tty": True}]),
    pod(containers=[C(securityContext={"capabilities": {"add": ["CAP_NET_ADMIN", "sys_time"], "drop": ["ALL"]}})]),
]


@pytest.mark.parametrize("manifest", VALID)
def test_valid_neighbours(manifest: dict[str, Any]) -> None:
    assert errors(manifest) == []


def test_single_node_warnings() -> None:
    found = warnings(pod(containers=[C(ports=[{"containerPort": 80}]), c2(ports=[{"containerPort": 80}])]))
    assert found == ["spec.containers[1].ports[0]: duplicate port definition with spec.containers[0].ports[0]"]
    found = warnings(pod(containers=[C(resources={"limits": {"example.com/dongle": "1"}})]))
    assert "extended resources are ignored on a single node" in found[0]
    found = warnings(pod(containers=[C(securityContext={"capabilities": {"add": ["FLY"]}})]))
    assert found == ["spec.containers[0].securityContext.capabilities.add[0]: unknown capability 'FLY': the "
                     "container will fail to start"]
    found = warnings(pod(containers=[C(livenessProbe={"httpGet": {"port": "metrics"}})]))
    assert "no port of this container is named 'metrics'" in found[0]
    found = warnings(pod(securityContext={"runAsNonRoot": True}, containers=[C(securityContext={"runAsUser": 0})]))
    assert "breaks non-root policy" in found[0]
