"""The typed v1 Pod: every field a single node can honour, and the rest declared as ignored.

Names follow the Kubernetes API (k8s.io/api/core/v1/types.go) in snake_case;
the JSON names are derived (see :func:`podbay.runtime.spec.schema.camel_case`).
Descriptions are short and our own; ``podbay explain`` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass

from podbay.runtime.spec.meta import ObjectMeta
from podbay.runtime.spec.quantity import Quantity
from podbay.runtime.spec.schema import (
    Honour,
    IntOrString,
    Opaque,
    flag,
    many,
    num,
    opt,
    table,
    text,
)

IGNORED = Honour.IGNORED
UNSUPPORTED = Honour.UNSUPPORTED
_NO_SCHEDULER = "there is no scheduler: the pod runs on this machine"

# --- probes and handlers ------------------------------------------------------------


@dataclass(kw_only=True)
class ExecAction:
    command: list[str] = many("Command run inside the container (no shell unless you call one); exit 0 is success.")


@dataclass(kw_only=True)
class HTTPHeader:
    name: str = text("Header name.")
    value: str = text("Header value.")


@dataclass(kw_only=True)
class HTTPGetAction:
    path: str = text("Path to request (default /).")
    port: IntOrString | None = opt("Port number or the name of a container port.")
    host: str = text("Host to connect to (default: the pod IP).")
    scheme: str = text("HTTP or HTTPS (default HTTP; HTTPS does not verify certificates).")
    http_headers: list[HTTPHeader] = many("Extra request headers.", key="httpHeaders")


@dataclass(kw_only=True)
class TCPSocketAction:
    port: IntOrString | None = opt("Port number or the name of a container port; success is an accepted connection.")
    host: str = text("Host to connect to (default: the pod IP).")


@dataclass(kw_only=True)
class GRPCAction:
    port: int = num("Port of the gRPC health service.")
    service: str | None = opt("Service name sent in the grpc.health.v1 HealthCheckRequest (default empty).")


@dataclass(kw_only=True)
class SleepAction:
    seconds: int = num("Seconds to sleep.")


@dataclass(kw_only=True)
class Probe:
    exec: ExecAction | None = opt("Run a command in the container.")
    http_get: HTTPGetAction | None = opt("Send an HTTP GET; status 200-399 is success.")
    tcp_socket: TCPSocketAction | None = opt("Open a TCP connection.")
    grpc: GRPCAction | None = opt("Call the gRPC health checking protocol.")
    initial_delay_seconds: int = num("Seconds after the container starts before the first probe (default 0).")
    timeout_seconds: int = num("Seconds after which one probe attempt fails (default 1).")
    period_seconds: int = num("Seconds between probes (default 10).")
    success_threshold: int = num("Consecutive successes to count as passing after a failure (default 1; "
                                 "must be 1 for liveness and startup).")
    failure_threshold: int = num("Consecutive failures to count as failing (default 3).")
    termination_grace_period_seconds: int | None = opt("Grace period used when this liveness/startup probe "
                                                       "kills the container (overrides the pod's).")


@dataclass(kw_only=True)
class LifecycleHandler:
    exec: ExecAction | None = opt("Run a command in the container.")
    http_get: HTTPGetAction | None = opt("Send an HTTP GET to the container.")
    tcp_socket: TCPSocketAction | None = opt("Deprecated: open a TCP connection.")
    sleep: SleepAction | None = opt("Sleep for a number of seconds.")


@dataclass(kw_only=True)
class Lifecycle:
    post_start: LifecycleHandler | None = opt("Runs right after the container is created; a failure kills it.")
    pre_stop: LifecycleHandler | None = opt("Runs before the container is sent its stop signal.")
    stop_signal: str = text("Signal sent to stop the container (default: the image's STOPSIGNAL, else SIGTERM).")


# --- environment, ports, mounts, resources --------------------------------------------


@dataclass(kw_only=True)
class ObjectFieldSelector:
    api_version: str = text("Version of the schema the path is written in (default v1).")
    field_path: str = text("Path of the pod field, for example metadata.name or status.podIP.")


@dataclass(kw_only=True)
class ResourceFieldSelector:
    container_name: str = text("Container whose resources are read (required in volumes).")
    resource: str = text("limits.cpu, limits.memory, limits.ephemeral-storage, requests.cpu, ...")
    divisor: Quantity | None = opt("Unit the value is divided by (default 1).")


@dataclass(kw_only=True)
class ConfigMapKeySelector:
    name: str = text("Name of the ConfigMap.")
    key: str = text("Key within the ConfigMap.")
    optional: bool | None = opt("Whether a missing ConfigMap or key is allowed.")


@dataclass(kw_only=True)
class SecretKeySelector:
    name: str = text("Name of the Secret.")
    key: str = text("Key within the Secret.")
    optional: bool | None = opt("Whether a missing Secret or key is allowed.")


@dataclass(kw_only=True)
class EnvVarSource:
    field_ref: ObjectFieldSelector | None = opt("A field of the pod (downward API).")
    resource_field_ref: ResourceFieldSelector | None = opt("A resource limit or request of a container.")
    config_map_key_ref: ConfigMapKeySelector | None = opt("A key of a ConfigMap.")
    secret_key_ref: SecretKeySelector | None = opt("A key of a Secret.")
    file_key_ref: Opaque | None = opt("A key of an env file in a volume (alpha).", honour=UNSUPPORTED,
                                      why="alpha feature EnvFiles")


@dataclass(kw_only=True)
class EnvVar:
    name: str = text("Variable name (printable ASCII, no '=').")
    value: str = text("Value; $(VAR) refers to earlier variables, $$ escapes.")
    value_from: EnvVarSource | None = opt("Where to read the value from instead of value.")


@dataclass(kw_only=True)
class ConfigMapEnvSource:
    name: str = text("Name of the ConfigMap.")
    optional: bool | None = opt("Whether a missing ConfigMap is allowed.")


@dataclass(kw_only=True)
class SecretEnvSource:
    name: str = text("Name of the Secret.")
    optional: bool | None = opt("Whether a missing Secret is allowed.")


@dataclass(kw_only=True)
class EnvFromSource:
    prefix: str = text("Prefix added to every variable name.")
    config_map_ref: ConfigMapEnvSource | None = opt("Every key of a ConfigMap becomes a variable.")
    secret_ref: SecretEnvSource | None = opt("Every key of a Secret becomes a variable.")


@dataclass(kw_only=True)
class ContainerPort:
    name: str = text("Port name (IANA service name), usable by probes.")
    container_port: int = num("Port the container listens on, in the pod's network namespace.")
    host_port: int = num("Port on the host forwarded to containerPort.")
    protocol: str = text("TCP, UDP or SCTP (default TCP).")
    host_ip: str = text("Host address to bind the hostPort on (default all).", key="hostIP")


@dataclass(kw_only=True)
class VolumeMount:
    name: str = text("Name of a volume of the pod.")
    mount_path: str = text("Absolute path inside the container.")
    sub_path: str = text("Path within the volume to mount instead of its root.")
    sub_path_expr: str = text("Like subPath, with $(VAR) expanded from the container's environment.")
    read_only: bool = flag("Mount read-only.")
    recursive_read_only: str | None = opt("Disabled, IfPossible or Enabled: make submounts read-only too.")
    mount_propagation: str | None = opt("None, HostToContainer or Bidirectional.")


@dataclass(kw_only=True)
class VolumeDevice:
    name: str = text("Name of a persistentVolumeClaim volume in block mode.")
    device_path: str = text("Path of the device inside the container.")


@dataclass(kw_only=True)
class ResourceRequirements:
    limits: dict[str, Quantity] = table("Maximum amounts: cpu (cores), memory (bytes), ephemeral-storage, ...")
    requests: dict[str, Quantity] = table("Guaranteed amounts; default to the limits when only limits are set.")
    claims: list[Opaque] = many("Dynamic resource claims.", honour=UNSUPPORTED, why="no dynamic resource allocation")


@dataclass(kw_only=True)
class ContainerResizePolicy:
    resource_name: str = text("cpu or memory.")
    restart_policy: str = text("NotRequired or RestartContainer.")


# --- security -------------------------------------------------------------------------


@dataclass(kw_only=True)
class Capabilities:
    add: list[str] = many("Capabilities added to the runtime's default set (for example NET_ADMIN).")
    drop: list[str] = many("Capabilities removed from the default set; ALL removes every one.")


@dataclass(kw_only=True)
class SeccompProfile:
    type: str = text("RuntimeDefault, Localhost or Unconfined.")
    localhost_profile: str | None = opt("Profile file relative to podbay's seccomp folder (type Localhost).")


@dataclass(kw_only=True)
class AppArmorProfile:
    type: str = text("RuntimeDefault, Localhost or Unconfined.")
    localhost_profile: str | None = opt("Name of a loaded AppArmor profile (type Localhost).")


_NO_LSM = "podbay applies no Linux security module profile"


@dataclass(kw_only=True)
class SecurityContext:
    capabilities: Capabilities | None = opt("Capabilities to add to or drop from the default set.")
    privileged: bool | None = opt("Run with all capabilities, no seccomp filter and host devices.")
    se_linux_options: Opaque | None = opt("SELinux labels.", honour=UNSUPPORTED, why=_NO_LSM)
    windows_options: Opaque | None = opt("Windows settings.", honour=IGNORED, why="Windows only")
    run_as_user: int | None = opt("UID of the process (default: the image's USER).")
    run_as_group: int | None = opt("GID of the process (default: the image's group, else 0).")
    run_as_non_root: bool | None = opt("Refuse to start when the process would run as UID 0.")
    read_only_root_filesystem: bool | None = opt("Mount the container's root filesystem read-only.")
    allow_privilege_escalation: bool | None = opt("Allow gaining privileges (setuid, file caps): "
                                                  "false sets no_new_privs.")
    proc_mount: str | None = opt("Default masks /proc paths; Unmasked does not (needs hostUsers: false).")
    seccomp_profile: SeccompProfile | None = opt("The seccomp filter (overrides the pod's).")
    app_armor_profile: AppArmorProfile | None = opt("The AppArmor profile.", honour=UNSUPPORTED, why=_NO_LSM)
    cgroup_options: Opaque | None = opt("How /sys/fs/cgroup is mounted (alpha).", honour=UNSUPPORTED,
                                        why="alpha upstream; podbay mounts the container's cgroup read-only")


@dataclass(kw_only=True)
class Sysctl:
    name: str = text("Namespaced sysctl, for example net.ipv4.ip_unprivileged_port_start.")
    value: str = text("Value to set.")


@dataclass(kw_only=True)
class PodSecurityContext:
    se_linux_options: Opaque | None = opt("SELinux labels.", honour=UNSUPPORTED, why=_NO_LSM)
    windows_options: Opaque | None = opt("Windows settings.", honour=IGNORED, why="Windows only")
    run_as_user: int | None = opt("Default UID for every container.")
    run_as_group: int | None = opt("Default GID for every container.")
    run_as_non_root: bool | None = opt("Default for containers: refuse UID 0.")
    supplemental_groups: list[int] = many("Extra GIDs for every container's first process.")
    supplemental_groups_policy: str | None = opt("Merge (add the image's groups) or Strict.")
    fs_group: int | None = opt("GID that owns volumes and is added to every container's groups.")
    fs_group_change_policy: str | None = opt("OnRootMismatch or Always: when to chown volumes to fsGroup.")
    sysctls: list[Sysctl] = many("Namespaced sysctls set in the pod's namespaces.")
    seccomp_profile: SeccompProfile | None = opt("Default seccomp filter for every container.")
    app_armor_profile: AppArmorProfile | None = opt("The AppArmor profile.", honour=UNSUPPORTED, why=_NO_LSM)
    se_linux_change_policy: str | None = opt("How SELinux labels are applied to volumes.", honour=UNSUPPORTED,
                                             why=_NO_LSM)


# --- containers -----------------------------------------------------------------------


@dataclass(kw_only=True)
class Container:
    name: str = text("Name of the container, unique within the pod (a DNS-1123 label).")
    image: str = text("Image reference, for example docker.io/library/busybox:1.36.")
    command: list[str] = many("Replaces the image's ENTRYPOINT; $(VAR) is expanded.")
    args: list[str] = many("Replaces the image's CMD; $(VAR) is expanded.")
    working_dir: str = text("Working directory (default: the image's WORKDIR).")
    ports: list[ContainerPort] = many("Ports the container exposes (informational, and used by hostPort).")
    env_from: list[EnvFromSource] = many("ConfigMaps and Secrets whose keys become variables.")
    env: list[EnvVar] = many("Environment variables; later ones win over envFrom.")
    resources: ResourceRequirements | None = opt("CPU and memory requests and limits, enforced with cgroup v2.")
    resize_policy: list[ContainerResizePolicy] = many("How a resize is applied.", honour=UNSUPPORTED,
                                                      why="podbay does not resize containers in place")
    restart_policy: str | None = opt("Always on an init container makes it a sidecar.")
    restart_policy_rules: list[Opaque] = many("Per-exit-code restart rules (alpha).", honour=UNSUPPORTED,
                                              why="alpha feature ContainerRestartRules")
    volume_mounts: list[VolumeMount] = many("Volumes mounted into the container.")
    volume_devices: list[VolumeDevice] = many("Block devices.", honour=UNSUPPORTED, why="no block volumes")
    liveness_probe: Probe | None = opt("Restart the container when this fails.")
    readiness_probe: Probe | None = opt("Mark the pod not Ready while this fails.")
    startup_probe: Probe | None = opt("Hold the other probes until this passes once; restart on failure.")
    lifecycle: Lifecycle | None = opt("postStart and preStop hooks, and the stop signal.")
    termination_message_path: str = text("File whose content becomes the termination message "
                                         "(default /dev/termination-log).")
    termination_message_policy: str = text("File, or FallbackToLogsOnError to use the log tail (default File).")
    image_pull_policy: str = text("Always, IfNotPresent or Never (default: Always for :latest or no tag, "
                                  "else IfNotPresent).")
    security_context: SecurityContext | None = opt("Privileges of the container's processes.")
    stdin: bool = flag("Keep a stdin stream open for attach.")
    stdin_once: bool = flag("Close stdin after the first attach ends.")
    tty: bool = flag("Allocate a terminal (needs stdin for input).")


@dataclass(kw_only=True)
class EphemeralContainer(Container):
    target_container_name: str = text("Container whose process namespace this debug container joins.")


# --- volumes --------------------------------------------------------------------------


@dataclass(kw_only=True)
class KeyToPath:
    key: str = text("Key to project.")
    path: str = text("Relative file path to write it to.")
    mode: int | None = opt("File mode bits (0-0777), default: the volume's defaultMode.")


@dataclass(kw_only=True)
class HostPathVolumeSource:
    path: str = text("Path on the host.")
    type: str | None = opt("Check before mounting: DirectoryOrCreate, Directory, FileOrCreate, File, Socket, "
                           "CharDevice, BlockDevice, or empty for none.")


@dataclass(kw_only=True)
class EmptyDirVolumeSource:
    medium: str = text("Empty for disk, Memory for tmpfs.")
    size_limit: Quantity | None = opt("Maximum size (tmpfs size for Memory).")
    mode: int | None = opt("Permission bits of the volume's directory (default 0777; alpha upstream).")


@dataclass(kw_only=True)
class SecretVolumeSource:
    secret_name: str = text("Name of the Secret.")
    items: list[KeyToPath] = many("Keys to project (default: all).")
    default_mode: int | None = opt("Mode of the files (default 0644).")
    optional: bool | None = opt("Whether a missing Secret is allowed.")


@dataclass(kw_only=True)
class ConfigMapVolumeSource:
    name: str = text("Name of the ConfigMap.")
    items: list[KeyToPath] = many("Keys to project (default: all).")
    default_mode: int | None = opt("Mode of the files (default 0644).")
    optional: bool | None = opt("Whether a missing ConfigMap is allowed.")


@dataclass(kw_only=True)
class DownwardAPIVolumeFile:
    path: str = text("Relative file path.")
    field_ref: ObjectFieldSelector | None = opt("A pod field: metadata.name, namespace, uid, labels, annotations.")
    resource_field_ref: ResourceFieldSelector | None = opt("A container's resource limit or request.")
    mode: int | None = opt("File mode bits (0-0777).")


@dataclass(kw_only=True)
class DownwardAPIVolumeSource:
    items: list[DownwardAPIVolumeFile] = many("Files to write.")
    default_mode: int | None = opt("Mode of the files (default 0644).")


@dataclass(kw_only=True)
class SecretProjection:
    name: str = text("Name of the Secret.")
    items: list[KeyToPath] = many("Keys to project (default: all).")
    optional: bool | None = opt("Whether a missing Secret is allowed.")


@dataclass(kw_only=True)
class ConfigMapProjection:
    name: str = text("Name of the ConfigMap.")
    items: list[KeyToPath] = many("Keys to project (default: all).")
    optional: bool | None = opt("Whether a missing ConfigMap is allowed.")


@dataclass(kw_only=True)
class DownwardAPIProjection:
    items: list[DownwardAPIVolumeFile] = many("Files to write.")


_NO_API_SERVER = "there is no API server to issue it"


@dataclass(kw_only=True)
class VolumeProjection:
    secret: SecretProjection | None = opt("Keys of a Secret.")
    config_map: ConfigMapProjection | None = opt("Keys of a ConfigMap.")
    downward_api: DownwardAPIProjection | None = opt("Pod fields.", key="downwardAPI")
    service_account_token: Opaque | None = opt("A service account token.", honour=UNSUPPORTED, why=_NO_API_SERVER)
    cluster_trust_bundle: Opaque | None = opt("A ClusterTrustBundle.", honour=UNSUPPORTED, why=_NO_API_SERVER)
    pod_certificate: Opaque | None = opt("A pod certificate.", honour=UNSUPPORTED, why=_NO_API_SERVER)


@dataclass(kw_only=True)
class ProjectedVolumeSource:
    sources: list[VolumeProjection] = many("Sources merged into one directory.")
    default_mode: int | None = opt("Mode of the files (default 0644).")


@dataclass(kw_only=True)
class PersistentVolumeClaimVolumeSource:
    claim_name: str = text("Name of a PersistentVolumeClaim; podbay backs it with a named local directory.")
    read_only: bool = flag("Mount read-only.")


@dataclass(kw_only=True)
class ImageVolumeSource:
    reference: str = text("Image whose filesystem is mounted read-only.")
    pull_policy: str = text("Always, IfNotPresent or Never.")


_NO_STORAGE = "podbay provides local volumes only"


@dataclass(kw_only=True)
class Volume:
    name: str = text("Volume name, referenced by volumeMounts (a DNS-1123 label).")
    host_path: HostPathVolumeSource | None = opt("A file or directory of the host.")
    empty_dir: EmptyDirVolumeSource | None = opt("A directory that lives as long as the pod.")
    secret: SecretVolumeSource | None = opt("Keys of a Secret as files.")
    config_map: ConfigMapVolumeSource | None = opt("Keys of a ConfigMap as files.")
    downward_api: DownwardAPIVolumeSource | None = opt("Pod fields as files.", key="downwardAPI")
    projected: ProjectedVolumeSource | None = opt("Secrets, ConfigMaps and pod fields in one directory.")
    persistent_volume_claim: PersistentVolumeClaimVolumeSource | None = opt("A claim, as a named local volume.")
    image: ImageVolumeSource | None = opt("An image's filesystem, read-only.")
    ephemeral: Opaque | None = opt("A volume provisioned per pod.", honour=UNSUPPORTED, why=_NO_STORAGE)
    nfs: Opaque | None = opt("An NFS export.", honour=UNSUPPORTED, why=_NO_STORAGE)
    iscsi: Opaque | None = opt("An iSCSI disk.", honour=UNSUPPORTED, why=_NO_STORAGE)
    csi: Opaque | None = opt("A CSI driver volume.", honour=UNSUPPORTED, why=_NO_STORAGE)
    git_repo: Opaque | None = opt("Deprecated git checkout.", honour=UNSUPPORTED, why=_NO_STORAGE)
    glusterfs: Opaque | None = opt("A GlusterFS volume.", honour=UNSUPPORTED, why=_NO_STORAGE)
    rbd: Opaque | None = opt("A Ceph RBD image.", honour=UNSUPPORTED, why=_NO_STORAGE)
    cephfs: Opaque | None = opt("A CephFS mount.", honour=UNSUPPORTED, why=_NO_STORAGE)
    cinder: Opaque | None = opt("An OpenStack Cinder volume.", honour=UNSUPPORTED, why=_NO_STORAGE)
    fc: Opaque | None = opt("A Fibre Channel disk.", honour=UNSUPPORTED, why=_NO_STORAGE)
    flocker: Opaque | None = opt("A Flocker volume.", honour=UNSUPPORTED, why=_NO_STORAGE)
    flex_volume: Opaque | None = opt("A FlexVolume driver.", honour=UNSUPPORTED, why=_NO_STORAGE)
    azure_file: Opaque | None = opt("An Azure File share.", honour=UNSUPPORTED, why=_NO_STORAGE)
    azure_disk: Opaque | None = opt("An Azure Disk.", honour=UNSUPPORTED, why=_NO_STORAGE)
    vsphere_volume: Opaque | None = opt("A vSphere volume.", honour=UNSUPPORTED, why=_NO_STORAGE)
    quobyte: Opaque | None = opt("A Quobyte volume.", honour=UNSUPPORTED, why=_NO_STORAGE)
    photon_persistent_disk: Opaque | None = opt("A Photon disk.", honour=UNSUPPORTED, why=_NO_STORAGE)
    portworx_volume: Opaque | None = opt("A Portworx volume.", honour=UNSUPPORTED, why=_NO_STORAGE)
    scale_io: Opaque | None = opt("A ScaleIO volume.", key="scaleIO", honour=UNSUPPORTED, why=_NO_STORAGE)
    storageos: Opaque | None = opt("A StorageOS volume.", honour=UNSUPPORTED, why=_NO_STORAGE)
    gce_persistent_disk: Opaque | None = opt("A GCE persistent disk.", honour=UNSUPPORTED, why=_NO_STORAGE)
    aws_elastic_block_store: Opaque | None = opt("An AWS EBS volume.", honour=UNSUPPORTED, why=_NO_STORAGE)


# JSON names of the volume source fields: exactly one may be set.
VOLUME_SOURCES = tuple(k for k in (
    "hostPath", "emptyDir", "secret", "configMap", "downwardAPI", "projected", "persistentVolumeClaim", "image",
    "ephemeral", "nfs", "iscsi", "csi", "gitRepo", "glusterfs", "rbd", "cephfs", "cinder", "fc", "flocker",
    "flexVolume", "azureFile", "azureDisk", "vsphereVolume", "quobyte", "photonPersistentDisk",
    "portworxVolume", "scaleIO", "storageos", "gcePersistentDisk", "awsElasticBlockStore"))


# --- the pod --------------------------------------------------------------------------


@dataclass(kw_only=True)
class PodDNSConfigOption:
    name: str = text("Resolver option name, for example ndots.")
    value: str | None = opt("Option value.")


@dataclass(kw_only=True)
class PodDNSConfig:
    nameservers: list[str] = many("Name server addresses (at most 3 in total).")
    searches: list[str] = many("Search domains (at most 32).")
    options: list[PodDNSConfigOption] = many("Resolver options; merged with those dnsPolicy gives.")


@dataclass(kw_only=True)
class HostAlias:
    ip: str = text("IP address of the entry.", key="ip")
    hostnames: list[str] = many("Names for that address in /etc/hosts.")


@dataclass(kw_only=True)
class PodOS:
    name: str = text("linux or windows; podbay runs linux pods.")


@dataclass(kw_only=True)
class PodSpec:
    volumes: list[Volume] = many("Volumes the containers can mount.")
    init_containers: list[Container] = many("Run one by one to completion before the app containers; "
                                            "restartPolicy: Always makes one a sidecar.")
    containers: list[Container] = many("The app containers (at least one).")
    ephemeral_containers: list[EphemeralContainer] = many("Debug containers added to a running pod "
                                                          "(podbay debug).")
    restart_policy: str = text("Always, OnFailure or Never (default Always).")
    termination_grace_period_seconds: int | None = opt("Seconds between the stop signal and SIGKILL (default 30).")
    active_deadline_seconds: int | None = opt("Seconds the pod may run before it is failed with DeadlineExceeded.")
    dns_policy: str = text("ClusterFirst, ClusterFirstWithHostNet, Default or None (default ClusterFirst; "
                           "with no cluster DNS podbay uses the host's resolvers).", key="dnsPolicy")
    node_selector: dict[str, str] = table("Node labels the pod requires.", honour=IGNORED, why=_NO_SCHEDULER)
    service_account_name: str = text("Service account of the pod.", honour=IGNORED,
                                     why="there is no API server to authenticate to")
    service_account: str = text("Deprecated alias of serviceAccountName.", honour=IGNORED,
                                why="there is no API server to authenticate to")
    automount_service_account_token: bool | None = opt("Mount a service account token.", honour=IGNORED,
                                                       why="there is no API server to authenticate to")
    node_name: str = text("Node the pod is bound to.", honour=IGNORED, why=_NO_SCHEDULER)
    host_network: bool = flag("Use the host's network namespace.")
    host_pid: bool = flag("Use the host's PID namespace.", key="hostPID")
    host_ipc: bool = flag("Use the host's IPC namespace.", key="hostIPC")
    share_process_namespace: bool | None = opt("One PID namespace for all containers of the pod.")
    security_context: PodSecurityContext | None = opt("Pod-wide security settings and container defaults.")
    image_pull_secrets: list[Opaque] = many("Secrets (kubernetes.io/dockerconfigjson or dockercfg, in the same "
                                            "files as the pod) with registry credentials, tried before the "
                                            "auth files.")
    hostname: str = text("Hostname of the pod (default: the pod name).")
    hostname_override: str = text("Exact hostname, overriding hostname and subdomain.")
    subdomain: str = text("Makes the FQDN <hostname>.<subdomain>.<namespace>.svc.<cluster-domain>.")
    affinity: Opaque | None = opt("Node and pod affinity rules.", honour=IGNORED, why=_NO_SCHEDULER)
    scheduler_name: str = text("Scheduler that places the pod.", honour=IGNORED, why=_NO_SCHEDULER)
    tolerations: list[Opaque] = many("Taints the pod tolerates.", honour=IGNORED, why=_NO_SCHEDULER)
    host_aliases: list[HostAlias] = many("Extra /etc/hosts entries.")
    priority_class_name: str = text("Priority class.", honour=IGNORED, why="nothing to preempt on one node")
    priority: int | None = opt("Priority value.", honour=IGNORED, why="nothing to preempt on one node")
    dns_config: PodDNSConfig | None = opt("Name servers, search domains and options added to resolv.conf.",
                                          key="dnsConfig")
    readiness_gates: list[Opaque] = many("Extra conditions for readiness.", honour=IGNORED,
                                         why="no controller sets custom conditions")
    runtime_class_name: str | None = opt("Runtime class.", honour=IGNORED, why="podbay is the only runtime")
    enable_service_links: bool | None = opt("Inject Service environment variables.", honour=IGNORED,
                                            why="there are no Services on one node")
    preemption_policy: str | None = opt("Preemption policy.", honour=IGNORED, why="nothing to preempt on one node")
    overhead: dict[str, Quantity] = table("Resource overhead of the runtime class.", honour=IGNORED,
                                          why="podbay is the only runtime")
    topology_spread_constraints: list[Opaque] = many("How pods spread across nodes.", honour=IGNORED,
                                                     why=_NO_SCHEDULER)
    set_hostname_as_fqdn: bool | None = opt("Use the FQDN as the hostname.", key="setHostnameAsFQDN")
    os: PodOS | None = opt("Operating system of the containers.")
    host_users: bool | None = opt("false gives the pod its own user namespace (podbay's default); "
                                  "true uses the host's.")
    scheduling_gates: list[Opaque] = many("Gates that hold scheduling.", honour=IGNORED, why=_NO_SCHEDULER)
    resource_claims: list[Opaque] = many("Dynamic resource claims.", honour=UNSUPPORTED,
                                         why="no dynamic resource allocation")
    resources: ResourceRequirements | None = opt("Pod-level requests and limits, applied to the pod's cgroup.")

    def all_containers(self) -> list[tuple[str, int, Container]]:
        """Every container with the JSON name of its list and its index there."""
        out: list[tuple[str, int, Container]] = []
        out += [("initContainers", i, c) for i, c in enumerate(self.init_containers)]
        out += [("containers", i, c) for i, c in enumerate(self.containers)]
        out += [("ephemeralContainers", i, c) for i, c in enumerate(self.ephemeral_containers)]
        return out


@dataclass(kw_only=True)
class Pod:
    api_version: str = text("v1")
    kind: str = text("Pod")
    metadata: ObjectMeta | None = opt("Name, namespace, labels and annotations.")
    spec: PodSpec | None = opt("The desired state of the pod.")
    status: Opaque | None = opt("Observed state.", honour=Honour.OUTPUT, why="podbay reports its own")


def spec_of(pod: Pod) -> PodSpec:
    """The pod's spec; a loaded (defaulted and validated) Pod always has one."""
    if pod.spec is None:
        raise ValueError("pod has no spec")
    return pod.spec


def meta_of(pod: Pod) -> ObjectMeta:
    """The pod's metadata; a loaded Pod always has one."""
    if pod.metadata is None:
        raise ValueError("pod has no metadata")
    return pod.metadata
