"""core/v1 types: exact round trips, Kubernetes wire names, patch metadata.

The expected wire names come from the json tags of ``k8s.io/api/core/v1/types.go`` at
Kubernetes 1.30 (kubernetes/api v0.30.14), inlined structs expanded.
"""

from __future__ import annotations

import copy
import inspect
from base64 import b64encode
from datetime import UTC, datetime
from typing import Any

import pydantic
import pytest
from kubernetes import client as official_client

from apitypes import core
from apitypes.base import (
    LIST_MAP_KEYS,
    LIST_TYPE,
    PATCH_MERGE_KEY,
    PATCH_STRATEGY,
    KubeModel,
    KubeObject,
)
from apitypes.core import (
    Binding,
    ConfigMap,
    Container,
    Endpoints,
    Event,
    Namespace,
    Node,
    Pod,
    PodSpec,
    Secret,
    Service,
    ServiceAccount,
    Taint,
    Toleration,
    Volume,
)


def core_models() -> dict[str, type[KubeModel]]:
    """Every API structure defined in apitypes.core, by class name."""
    return {
        name: cls
        for name, cls in vars(core).items()
        if inspect.isclass(cls) and issubclass(cls, KubeModel) and cls.__module__ == core.__name__
    }


# Model name -> the json names of the Go struct of that name (space separated), generated
# from core/v1/types.go at v0.30.14 with inlined structs (TypeMeta, VolumeSource,
# ProbeHandler, LocalObjectReference, EphemeralContainerCommon) expanded.
GO_JSON_FIELDS: dict[str, str] = {
    "ObjectReference": "kind namespace name uid apiVersion resourceVersion fieldPath",
    "LocalObjectReference": "name",
    "TypedLocalObjectReference": "apiGroup kind name",
    "TypedObjectReference": "apiGroup kind name namespace",
    "ObjectFieldSelector": "apiVersion fieldPath",
    "ResourceFieldSelector": "containerName resource divisor",
    "ConfigMapKeySelector": "name key optional",
    "SecretKeySelector": "name key optional",
    "EnvVarSource": "fieldRef resourceFieldRef configMapKeyRef secretKeyRef",
    "EnvVar": "name value valueFrom",
    "ConfigMapEnvSource": "name optional",
    "SecretEnvSource": "name optional",
    "EnvFromSource": "prefix configMapRef secretRef",
    "ResourceClaim": "name",
    "ResourceRequirements": "limits requests claims",
    "VolumeResourceRequirements": "limits requests",
    "ContainerResizePolicy": "resourceName restartPolicy",
    "KeyToPath": "key path mode",
    "HostPathVolumeSource": "path type",
    "EmptyDirVolumeSource": "medium sizeLimit",
    "SecretVolumeSource": "secretName items defaultMode optional",
    "ConfigMapVolumeSource": "name items defaultMode optional",
    "DownwardAPIVolumeFile": "path fieldRef resourceFieldRef mode",
    "DownwardAPIVolumeSource": "items defaultMode",
    "DownwardAPIProjection": "items",
    "SecretProjection": "name items optional",
    "ConfigMapProjection": "name items optional",
    "ServiceAccountTokenProjection": "audience expirationSeconds path",
    "ClusterTrustBundleProjection": "name signerName labelSelector optional path",
    "VolumeProjection": "secret downwardAPI configMap serviceAccountToken clusterTrustBundle",
    "ProjectedVolumeSource": "sources defaultMode",
    "PersistentVolumeClaimVolumeSource": "claimName readOnly",
    "NFSVolumeSource": "server path readOnly",
    "CSIVolumeSource": "driver readOnly fsType volumeAttributes nodePublishSecretRef",
    "PersistentVolumeClaimSpec": (
        "accessModes selector resources volumeName storageClassName volumeMode dataSource "
        "dataSourceRef volumeAttributesClassName"
    ),
    "PersistentVolumeClaimTemplate": "metadata spec",
    "PersistentVolumeClaim": "apiVersion kind metadata spec status",
    "PersistentVolumeClaimStatus": (
        "phase accessModes capacity conditions allocatedResources allocatedResourceStatuses "
        "currentVolumeAttributesClassName modifyVolumeStatus"
    ),
    "PersistentVolumeClaimCondition": (
        "type status lastProbeTime lastTransitionTime reason message"
    ),
    "ModifyVolumeStatus": "targetVolumeAttributesClassName status",
    "GCEPersistentDiskVolumeSource": "pdName fsType partition readOnly",
    "AWSElasticBlockStoreVolumeSource": "volumeID fsType partition readOnly",
    "GitRepoVolumeSource": "repository revision directory",
    "ISCSIVolumeSource": (
        "targetPortal iqn lun iscsiInterface fsType readOnly portals chapAuthDiscovery "
        "chapAuthSession secretRef initiatorName"
    ),
    "GlusterfsVolumeSource": "endpoints path readOnly",
    "RBDVolumeSource": "monitors image fsType pool user keyring secretRef readOnly",
    "FlexVolumeSource": "driver fsType secretRef readOnly options",
    "CinderVolumeSource": "volumeID fsType readOnly secretRef",
    "CephFSVolumeSource": "monitors path user secretFile secretRef readOnly",
    "FlockerVolumeSource": "datasetName datasetUUID",
    "FCVolumeSource": "targetWWNs lun fsType readOnly wwids",
    "AzureFileVolumeSource": "secretName shareName readOnly",
    "VsphereVirtualDiskVolumeSource": "volumePath fsType storagePolicyName storagePolicyID",
    "QuobyteVolumeSource": "registry volume readOnly user group tenant",
    "AzureDiskVolumeSource": "diskName diskURI cachingMode fsType readOnly kind",
    "PhotonPersistentDiskVolumeSource": "pdID fsType",
    "PortworxVolumeSource": "volumeID fsType readOnly",
    "ScaleIOVolumeSource": (
        "gateway system secretRef sslEnabled protectionDomain storagePool storageMode "
        "volumeName fsType readOnly"
    ),
    "StorageOSVolumeSource": "volumeName volumeNamespace fsType readOnly secretRef",
    "EphemeralVolumeSource": "volumeClaimTemplate",
    "Volume": (
        "name hostPath emptyDir gcePersistentDisk awsElasticBlockStore gitRepo secret nfs "
        "iscsi glusterfs persistentVolumeClaim rbd flexVolume cinder cephfs flocker "
        "downwardAPI fc azureFile configMap vsphereVolume quobyte azureDisk "
        "photonPersistentDisk projected portworxVolume scaleIO storageos csi ephemeral"
    ),
    "ContainerPort": "name hostPort containerPort protocol hostIP",
    "VolumeMount": "name readOnly recursiveReadOnly mountPath subPath mountPropagation subPathExpr",
    "VolumeDevice": "name devicePath",
    "HTTPHeader": "name value",
    "HTTPGetAction": "path port host scheme httpHeaders",
    "TCPSocketAction": "port host",
    "GRPCAction": "port service",
    "ExecAction": "command",
    "SleepAction": "seconds",
    "ProbeHandler": "exec httpGet tcpSocket grpc",
    "Probe": (
        "exec httpGet tcpSocket grpc initialDelaySeconds timeoutSeconds periodSeconds "
        "successThreshold failureThreshold terminationGracePeriodSeconds"
    ),
    "LifecycleHandler": "exec httpGet tcpSocket sleep",
    "Lifecycle": "postStart preStop",
    "Capabilities": "add drop",
    "SELinuxOptions": "user role type level",
    "WindowsSecurityContextOptions": (
        "gmsaCredentialSpecName gmsaCredentialSpec runAsUserName hostProcess"
    ),
    "SeccompProfile": "type localhostProfile",
    "AppArmorProfile": "type localhostProfile",
    "SecurityContext": (
        "capabilities privileged seLinuxOptions windowsOptions runAsUser runAsGroup "
        "runAsNonRoot readOnlyRootFilesystem allowPrivilegeEscalation procMount "
        "seccompProfile appArmorProfile"
    ),
    "Container": (
        "name image command args workingDir ports envFrom env resources resizePolicy "
        "restartPolicy volumeMounts volumeDevices livenessProbe readinessProbe startupProbe "
        "lifecycle terminationMessagePath terminationMessagePolicy imagePullPolicy "
        "securityContext stdin stdinOnce tty"
    ),
    "EphemeralContainer": (
        "name image command args workingDir ports envFrom env resources resizePolicy "
        "restartPolicy volumeMounts volumeDevices livenessProbe readinessProbe startupProbe "
        "lifecycle terminationMessagePath terminationMessagePolicy imagePullPolicy "
        "securityContext stdin stdinOnce tty targetContainerName"
    ),
    "NodeSelectorRequirement": "key operator values",
    "NodeSelectorTerm": "matchExpressions matchFields",
    "NodeSelector": "nodeSelectorTerms",
    "PreferredSchedulingTerm": "weight preference",
    "NodeAffinity": (
        "requiredDuringSchedulingIgnoredDuringExecution "
        "preferredDuringSchedulingIgnoredDuringExecution"
    ),
    "PodAffinityTerm": (
        "labelSelector namespaces topologyKey namespaceSelector matchLabelKeys mismatchLabelKeys"
    ),
    "WeightedPodAffinityTerm": "weight podAffinityTerm",
    "PodAffinity": (
        "requiredDuringSchedulingIgnoredDuringExecution "
        "preferredDuringSchedulingIgnoredDuringExecution"
    ),
    "PodAntiAffinity": (
        "requiredDuringSchedulingIgnoredDuringExecution "
        "preferredDuringSchedulingIgnoredDuringExecution"
    ),
    "Affinity": "nodeAffinity podAffinity podAntiAffinity",
    "Taint": "key value effect timeAdded",
    "Toleration": "key operator value effect tolerationSeconds",
    "TopologySpreadConstraint": (
        "maxSkew topologyKey whenUnsatisfiable labelSelector minDomains nodeAffinityPolicy "
        "nodeTaintsPolicy matchLabelKeys"
    ),
    "Sysctl": "name value",
    "PodSecurityContext": (
        "seLinuxOptions windowsOptions runAsUser runAsGroup runAsNonRoot supplementalGroups "
        "fsGroup sysctls fsGroupChangePolicy seccompProfile appArmorProfile"
    ),
    "HostAlias": "ip hostnames",
    "PodDNSConfigOption": "name value",
    "PodDNSConfig": "nameservers searches options",
    "PodReadinessGate": "conditionType",
    "PodOS": "name",
    "PodSchedulingGate": "name",
    "ClaimSource": "resourceClaimName resourceClaimTemplateName",
    "PodResourceClaim": "name source",
    "PodSpec": (
        "volumes initContainers containers ephemeralContainers restartPolicy "
        "terminationGracePeriodSeconds activeDeadlineSeconds dnsPolicy nodeSelector "
        "serviceAccountName serviceAccount automountServiceAccountToken nodeName hostNetwork "
        "hostPID hostIPC shareProcessNamespace securityContext imagePullSecrets hostname "
        "subdomain affinity schedulerName tolerations hostAliases priorityClassName priority "
        "dnsConfig readinessGates runtimeClassName enableServiceLinks preemptionPolicy "
        "overhead topologySpreadConstraints setHostnameAsFQDN os hostUsers schedulingGates "
        "resourceClaims"
    ),
    "ContainerStateWaiting": "reason message",
    "ContainerStateRunning": "startedAt",
    "ContainerStateTerminated": "exitCode signal reason message startedAt finishedAt containerID",
    "ContainerState": "waiting running terminated",
    "VolumeMountStatus": "name mountPath readOnly recursiveReadOnly",
    "ContainerStatus": (
        "name state lastState ready restartCount image imageID containerID started "
        "allocatedResources resources volumeMounts"
    ),
    "PodCondition": "type status lastProbeTime lastTransitionTime reason message",
    "PodIP": "ip",
    "HostIP": "ip",
    "PodResourceClaimStatus": "name resourceClaimName",
    "PodStatus": (
        "phase conditions message reason nominatedNodeName hostIP hostIPs podIP podIPs "
        "startTime initContainerStatuses containerStatuses qosClass "
        "ephemeralContainerStatuses resize resourceClaimStatuses"
    ),
    "Pod": "apiVersion kind metadata spec status",
    "PodTemplateSpec": "metadata spec",
    "ConfigMapNodeConfigSource": "namespace name uid resourceVersion kubeletConfigKey",
    "NodeConfigSource": "configMap",
    "NodeSpec": "podCIDR podCIDRs providerID unschedulable taints configSource externalID",
    "NodeCondition": "type status lastHeartbeatTime lastTransitionTime reason message",
    "NodeAddress": "type address",
    "DaemonEndpoint": "Port",
    "NodeDaemonEndpoints": "kubeletEndpoint",
    "NodeSystemInfo": (
        "machineID systemUUID bootID kernelVersion osImage containerRuntimeVersion "
        "kubeletVersion kubeProxyVersion operatingSystem architecture"
    ),
    "ContainerImage": "names sizeBytes",
    "AttachedVolume": "name devicePath",
    "NodeConfigStatus": "assigned active lastKnownGood error",
    "NodeRuntimeHandlerFeatures": "recursiveReadOnlyMounts",
    "NodeRuntimeHandler": "name features",
    "NodeStatus": (
        "capacity allocatable phase conditions addresses daemonEndpoints nodeInfo images "
        "volumesInUse volumesAttached config runtimeHandlers"
    ),
    "Node": "apiVersion kind metadata spec status",
    "NamespaceSpec": "finalizers",
    "NamespaceCondition": "type status lastTransitionTime reason message",
    "NamespaceStatus": "phase conditions",
    "Namespace": "apiVersion kind metadata spec status",
    "ClientIPConfig": "timeoutSeconds",
    "SessionAffinityConfig": "clientIP",
    "ServicePort": "name protocol appProtocol port targetPort nodePort",
    "ServiceSpec": (
        "ports selector clusterIP clusterIPs type externalIPs sessionAffinity loadBalancerIP "
        "loadBalancerSourceRanges externalName externalTrafficPolicy healthCheckNodePort "
        "publishNotReadyAddresses sessionAffinityConfig ipFamilies ipFamilyPolicy "
        "allocateLoadBalancerNodePorts loadBalancerClass internalTrafficPolicy "
        "trafficDistribution"
    ),
    "PortStatus": "port protocol error",
    "LoadBalancerIngress": "ip hostname ipMode ports",
    "LoadBalancerStatus": "ingress",
    "ServiceStatus": "loadBalancer conditions",
    "Service": "apiVersion kind metadata spec status",
    "EndpointAddress": "ip hostname nodeName targetRef",
    "EndpointPort": "name port protocol appProtocol",
    "EndpointSubset": "addresses notReadyAddresses ports",
    "Endpoints": "apiVersion kind metadata subsets",
    "ConfigMap": "apiVersion kind metadata immutable data binaryData",
    "Secret": "apiVersion kind metadata immutable data stringData type",
    "ServiceAccount": (
        "apiVersion kind metadata secrets imagePullSecrets automountServiceAccountToken"
    ),
    "LimitRangeItem": "type max min default defaultRequest maxLimitRequestRatio",
    "LimitRangeSpec": "limits",
    "LimitRange": "apiVersion kind metadata spec",
    "ScopedResourceSelectorRequirement": "scopeName operator values",
    "ScopeSelector": "matchExpressions",
    "ResourceQuotaSpec": "hard scopes scopeSelector",
    "ResourceQuotaStatus": "hard used",
    "ResourceQuota": "apiVersion kind metadata spec status",
    "ReplicationControllerCondition": "type status lastTransitionTime reason message",
    "ReplicationControllerSpec": "replicas minReadySeconds selector template",
    "ReplicationControllerStatus": (
        "replicas fullyLabeledReplicas readyReplicas availableReplicas observedGeneration "
        "conditions"
    ),
    "ReplicationController": "apiVersion kind metadata spec status",
    "EventSource": "component host",
    "EventSeries": "count lastObservedTime",
    "Event": (
        "apiVersion kind metadata involvedObject reason message source firstTimestamp "
        "lastTimestamp count type eventTime series action related reportingComponent "
        "reportingInstance"
    ),
    "Binding": "apiVersion kind metadata target",
}


# --- manifests ------------------------------------------------------------------------

UID_POD = "8a3c6a2e-6f7b-4b8e-9a43-0f0a3c2b1d11"
T0 = "2024-05-01T10:00:00Z"
T1 = "2024-05-01T10:00:04Z"
T2 = "2024-05-01T10:07:12Z"

PROBE_LIVENESS: dict[str, Any] = {
    "httpGet": {
        "path": "/healthz",
        "port": "http",
        "scheme": "HTTP",
        "httpHeaders": [{"name": "X-Probe", "value": "liveness"}],
    },
    "initialDelaySeconds": 5,
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
    "terminationGracePeriodSeconds": 15,
}

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-7d9f8b6c5-x2x9k",
        "generateName": "web-7d9f8b6c5-",
        "namespace": "shop",
        "uid": UID_POD,
        "resourceVersion": "48213",
        "creationTimestamp": T0,
        "labels": {"app": "web", "pod-template-hash": "7d9f8b6c5"},
        "annotations": {"prometheus.io/scrape": "true"},
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web-7d9f8b6c5",
                "uid": "0b1c2d3e-0000-4000-8000-000000000001",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    },
    "spec": {
        "volumes": [
            {"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
            {"name": "host-logs", "hostPath": {"path": "/var/log", "type": "Directory"}},
            {
                "name": "config",
                "configMap": {
                    "name": "web-config",
                    "items": [{"key": "nginx.conf", "path": "nginx.conf", "mode": 420}],
                    "defaultMode": 420,
                    "optional": False,
                },
            },
            {"name": "tls", "secret": {"secretName": "web-tls", "defaultMode": 256}},
            {
                "name": "podinfo",
                "downwardAPI": {
                    "items": [
                        {
                            "path": "labels",
                            "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"},
                        },
                        {
                            "path": "cpu_limit",
                            "resourceFieldRef": {
                                "containerName": "web",
                                "resource": "limits.cpu",
                                "divisor": "1m",
                            },
                        },
                    ],
                    "defaultMode": 420,
                },
            },
            {
                "name": "kube-api-access-4xk2p",
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {
                            "configMap": {
                                "name": "kube-root-ca.crt",
                                "items": [{"key": "ca.crt", "path": "ca.crt"}],
                            }
                        },
                        {
                            "downwardAPI": {
                                "items": [
                                    {
                                        "path": "namespace",
                                        "fieldRef": {
                                            "apiVersion": "v1",
                                            "fieldPath": "metadata.namespace",
                                        },
                                    }
                                ]
                            }
                        },
                        {"secret": {"name": "extra-ca", "optional": True}},
                    ],
                    "defaultMode": 420,
                },
            },
            {"name": "data", "persistentVolumeClaim": {"claimName": "web-data", "readOnly": True}},
            {"name": "shared", "nfs": {"server": "10.0.0.5", "path": "/exports", "readOnly": True}},
            {
                "name": "scratch",
                "ephemeral": {
                    "volumeClaimTemplate": {
                        "metadata": {"labels": {"type": "scratch"}},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "storageClassName": "local-path",
                            "volumeMode": "Filesystem",
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                },
            },
            {
                "name": "csi-secrets",
                "csi": {
                    "driver": "secrets-store.csi.k8s.io",
                    "readOnly": True,
                    "volumeAttributes": {"secretProviderClass": "vault"},
                },
            },
            {"name": "legacy", "gcePersistentDisk": {"pdName": "disk-1", "fsType": "ext4"}},
            {
                "name": "scaleio",
                "scaleIO": {
                    "gateway": "https://sio:443",
                    "system": "sio",
                    "secretRef": {"name": "sio-secret"},
                    "sslEnabled": True,
                },
            },
        ],
        "initContainers": [
            {
                "name": "migrate",
                "image": "shop/web:1.4.2",
                "command": ["/bin/migrate"],
                "args": ["--up"],
                "envFrom": [
                    {"configMapRef": {"name": "web-env"}},
                    {"prefix": "DB_", "secretRef": {"name": "db", "optional": True}},
                ],
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "FallbackToLogsOnError",
                "imagePullPolicy": "IfNotPresent",
            },
            {"name": "log-shipper", "image": "shop/shipper:2", "restartPolicy": "Always"},
        ],
        "containers": [
            {
                "name": "web",
                "image": "shop/web:1.4.2",
                "workingDir": "/srv",
                "ports": [
                    {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                    {
                        "name": "metrics",
                        "hostPort": 19090,
                        "containerPort": 9090,
                        "protocol": "TCP",
                        "hostIP": "127.0.0.1",
                    },
                ],
                "env": [
                    {"name": "MODE", "value": "production"},
                    {"name": "EMPTY", "value": ""},
                    {
                        "name": "POD_IP",
                        "valueFrom": {
                            "fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}
                        },
                    },
                    {
                        "name": "MEM_LIMIT",
                        "valueFrom": {
                            "resourceFieldRef": {
                                "containerName": "web",
                                "resource": "limits.memory",
                                "divisor": "1Mi",
                            }
                        },
                    },
                    {
                        "name": "COLOR",
                        "valueFrom": {
                            "configMapKeyRef": {
                                "name": "web-config",
                                "key": "color",
                                "optional": True,
                            }
                        },
                    },
                    {
                        "name": "DB_PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}},
                    },
                ],
                "resources": {
                    "limits": {"cpu": "2", "memory": "512Mi", "ephemeral-storage": "2Gi"},
                    "requests": {"cpu": "250m", "memory": "256Mi"},
                    "claims": [{"name": "gpu"}],
                },
                "resizePolicy": [{"resourceName": "cpu", "restartPolicy": "NotRequired"}],
                "volumeMounts": [
                    {
                        "name": "config",
                        "readOnly": True,
                        "mountPath": "/etc/nginx/nginx.conf",
                        "subPath": "nginx.conf",
                    },
                    {"name": "cache", "mountPath": "/cache"},
                    {
                        "name": "podinfo",
                        "readOnly": True,
                        "recursiveReadOnly": "Disabled",
                        "mountPath": "/etc/podinfo",
                        "mountPropagation": "None",
                        "subPathExpr": "$(POD_NAME)",
                    },
                ],
                "volumeDevices": [{"name": "raw", "devicePath": "/dev/xvdb"}],
                "livenessProbe": PROBE_LIVENESS,
                "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 5},
                "startupProbe": {
                    "grpc": {"port": 9091, "service": "health"},
                    "failureThreshold": 30,
                },
                "lifecycle": {
                    "postStart": {"exec": {"command": ["/bin/sh", "-c", "echo started"]}},
                    "preStop": {"sleep": {"seconds": 5}},
                },
                "securityContext": {
                    "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                    "privileged": False,
                    "seLinuxOptions": {"level": "s0:c123,c456"},
                    "runAsUser": 1000,
                    "runAsGroup": 1000,
                    "runAsNonRoot": True,
                    "readOnlyRootFilesystem": True,
                    "allowPrivilegeEscalation": False,
                    "procMount": "Default",
                    "seccompProfile": {"type": "RuntimeDefault"},
                    "appArmorProfile": {"type": "Localhost", "localhostProfile": "k8s-web"},
                },
                "stdin": False,
                "stdinOnce": False,
                "tty": False,
            },
            {
                "name": "sidecar",
                "image": "busybox:1.36",
                "command": ["sh", "-c", "tail -F /cache/log"],
                "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}},
                "lifecycle": {
                    "postStart": {"tcpSocket": {"port": "admin", "host": "127.0.0.1"}},
                    "preStop": {"httpGet": {"path": "/quit", "port": 8081, "host": "localhost"}},
                },
                "stdin": True,
                "tty": True,
            },
        ],
        "ephemeralContainers": [
            {
                "name": "debugger-k7x2",
                "image": "busybox:1.36",
                "stdin": True,
                "tty": True,
                "targetContainerName": "web",
            }
        ],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "activeDeadlineSeconds": 86400,
        "dnsPolicy": "ClusterFirst",
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "serviceAccountName": "web",
        "serviceAccount": "web",
        "automountServiceAccountToken": True,
        "nodeName": "node-2",
        "hostNetwork": False,
        "hostPID": False,
        "hostIPC": False,
        "shareProcessNamespace": True,
        "securityContext": {
            "seLinuxOptions": {"user": "system_u", "role": "system_r", "type": "spc_t"},
            "windowsOptions": {"runAsUserName": "ContainerUser", "hostProcess": False},
            "runAsUser": 1000,
            "runAsGroup": 3000,
            "runAsNonRoot": True,
            "supplementalGroups": [4000, 4001],
            "fsGroup": 2000,
            "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}],
            "fsGroupChangePolicy": "OnRootMismatch",
            "seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/web.json"},
            "appArmorProfile": {"type": "RuntimeDefault"},
        },
        "imagePullSecrets": [{"name": "registry-cred"}],
        "hostname": "web-0",
        "subdomain": "web-headless",
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "kubernetes.io/arch",
                                    "operator": "In",
                                    "values": ["amd64", "arm64"],
                                }
                            ],
                            "matchFields": [
                                {"key": "metadata.name", "operator": "NotIn", "values": ["node-9"]}
                            ],
                        }
                    ]
                },
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 50,
                        "preference": {"matchExpressions": [{"key": "ssd", "operator": "Exists"}]},
                    }
                ],
            },
            "podAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "labelSelector": {
                            "matchExpressions": [
                                {"key": "app", "operator": "In", "values": ["cache"]}
                            ]
                        },
                        "namespaces": ["shop"],
                        "topologyKey": "kubernetes.io/hostname",
                        "namespaceSelector": {"matchLabels": {"team": "shop"}},
                    }
                ]
            },
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": {"matchLabels": {"app": "web"}},
                            "topologyKey": "kubernetes.io/hostname",
                            "matchLabelKeys": ["pod-template-hash"],
                            "mismatchLabelKeys": ["tenant"],
                        },
                    }
                ]
            },
        },
        "schedulerName": "default-scheduler",
        "tolerations": [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
            {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"},
        ],
        "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["db.local", "cache.local"]}],
        "priorityClassName": "high",
        "priority": 1000000,
        "dnsConfig": {
            "nameservers": ["10.96.0.10"],
            "searches": ["shop.svc.cluster.local"],
            "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}],
        },
        "readinessGates": [{"conditionType": "example.com/feature-1"}],
        "runtimeClassName": "runc",
        "enableServiceLinks": False,
        "preemptionPolicy": "PreemptLowerPriority",
        "overhead": {"cpu": "10m", "memory": "16Mi"},
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "web"}},
                "minDomains": 2,
                "nodeAffinityPolicy": "Honor",
                "nodeTaintsPolicy": "Ignore",
                "matchLabelKeys": ["pod-template-hash"],
            }
        ],
        "setHostnameAsFQDN": True,
        "os": {"name": "linux"},
        "hostUsers": False,
        "schedulingGates": [{"name": "example.com/quota"}],
        "resourceClaims": [{"name": "gpu", "source": {"resourceClaimTemplateName": "gpu-tmpl"}}],
    },
    "status": {
        "phase": "Running",
        "conditions": [
            {"type": "PodReadyToStartContainers", "status": "True", "lastTransitionTime": T1},
            {"type": "Initialized", "status": "True", "lastTransitionTime": T1},
            {
                "type": "Ready",
                "status": "True",
                "lastProbeTime": T2,
                "lastTransitionTime": T2,
            },
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": T2},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": T0},
        ],
        "message": "",
        "reason": "",
        "nominatedNodeName": "node-3",
        "hostIP": "192.168.1.12",
        "hostIPs": [{"ip": "192.168.1.12"}, {"ip": "fd00::12"}],
        "podIP": "10.244.2.17",
        "podIPs": [{"ip": "10.244.2.17"}, {"ip": "fd00:10:244:2::17"}],
        "startTime": T0,
        "initContainerStatuses": [
            {
                "name": "migrate",
                "state": {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": T0,
                        "finishedAt": T1,
                        "containerID": "docker://1f2e3d",
                    }
                },
                "lastState": {},
                "ready": True,
                "restartCount": 0,
                "image": "shop/web:1.4.2",
                "imageID": "docker-pullable://shop/web@sha256:0123abcd",
                "containerID": "docker://1f2e3d",
                "started": False,
            }
        ],
        "containerStatuses": [
            {
                "name": "web",
                "state": {"running": {"startedAt": T2}},
                "lastState": {
                    "terminated": {
                        "exitCode": 137,
                        "signal": 9,
                        "reason": "OOMKilled",
                        "message": "memory limit reached",
                        "startedAt": T1,
                        "finishedAt": T2,
                        "containerID": "docker://aa11",
                    }
                },
                "ready": True,
                "restartCount": 1,
                "image": "shop/web:1.4.2",
                "imageID": "docker-pullable://shop/web@sha256:0123abcd",
                "containerID": "docker://bb22",
                "started": True,
                "allocatedResources": {"cpu": "250m", "memory": "256Mi"},
                "resources": {
                    "limits": {"cpu": "2", "memory": "512Mi"},
                    "requests": {"cpu": "250m", "memory": "256Mi"},
                },
                "volumeMounts": [
                    {
                        "name": "podinfo",
                        "mountPath": "/etc/podinfo",
                        "readOnly": True,
                        "recursiveReadOnly": "Disabled",
                    }
                ],
            },
            {
                "name": "sidecar",
                "state": {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": "back-off 10s restarting failed container",
                    }
                },
                "ready": False,
                "restartCount": 3,
                "image": "busybox:1.36",
                "imageID": "",
                "started": False,
            },
        ],
        "qosClass": "Burstable",
        "ephemeralContainerStatuses": [
            {
                "name": "debugger-k7x2",
                "state": {"running": {"startedAt": T2}},
                "ready": False,
                "restartCount": 0,
                "image": "busybox:1.36",
                "imageID": "docker-pullable://busybox@sha256:9ae9",
                "containerID": "docker://cc33",
            }
        ],
        "resize": "InProgress",
        "resourceClaimStatuses": [{"name": "gpu", "resourceClaimName": "web-gpu-x7"}],
    },
}

NODE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {
        "name": "node-2",
        "uid": "5e9a7c1d-1111-4222-8333-444455556666",
        "resourceVersion": "9001",
        "creationTimestamp": T0,
        "labels": {
            "kubernetes.io/hostname": "node-2",
            "kubernetes.io/os": "linux",
            "node-role.kubernetes.io/worker": "",
        },
        "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
    },
    "spec": {
        "podCIDR": "10.244.2.0/24",
        "podCIDRs": ["10.244.2.0/24", "fd00:10:244:2::/64"],
        "providerID": "navarch://node-2",
        "unschedulable": True,
        "taints": [
            {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": T1},
            {"key": "dedicated", "value": "web", "effect": "NoSchedule"},
        ],
        "configSource": {
            "configMap": {
                "namespace": "kube-system",
                "name": "kubelet-config",
                "kubeletConfigKey": "kubelet",
            }
        },
        "externalID": "node-2",
    },
    "status": {
        "capacity": {
            "cpu": "4",
            "ephemeral-storage": "102626232Ki",
            "hugepages-2Mi": "0",
            "memory": "16318420Ki",
            "pods": "110",
        },
        "allocatable": {
            "cpu": "3800m",
            "ephemeral-storage": "94580335255",
            "hugepages-2Mi": "0",
            "memory": "15601620Ki",
            "pods": "110",
        },
        "phase": "Running",
        "conditions": [
            {
                "type": "MemoryPressure",
                "status": "False",
                "lastHeartbeatTime": T2,
                "lastTransitionTime": T0,
                "reason": "KubeletHasSufficientMemory",
                "message": "kubelet has sufficient memory available",
            },
            {
                "type": "Ready",
                "status": "True",
                "lastHeartbeatTime": T2,
                "lastTransitionTime": T1,
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
            },
        ],
        "addresses": [
            {"type": "InternalIP", "address": "192.168.1.12"},
            {"type": "InternalIP", "address": "fd00::12"},
            {"type": "Hostname", "address": "node-2"},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": "0f7e3c2a9b8d4e5f6a7b8c9d0e1f2a3b",
            "systemUUID": "4c4c4544-0042-3510-8052-b4c04f4e3232",
            "bootID": "7d1b1f0e-2a5b-4c8e-9f3a-6b2d1c0e9f8a",
            "kernelVersion": "6.1.0-18-amd64",
            "osImage": "Debian GNU/Linux 12 (bookworm)",
            "containerRuntimeVersion": "docker://24.0.7",
            "kubeletVersion": "v1.30.0-navarch",
            "kubeProxyVersion": "v1.30.0-navarch",
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
        "images": [
            {"names": ["shop/web@sha256:0123abcd", "shop/web:1.4.2"], "sizeBytes": 52428800},
            {"names": ["busybox:1.36"], "sizeBytes": 4261550},
        ],
        "volumesInUse": ["kubernetes.io/csi/hostpath.csi.k8s.io^vol-1"],
        "volumesAttached": [
            {"name": "kubernetes.io/csi/hostpath.csi.k8s.io^vol-1", "devicePath": ""}
        ],
        "config": {
            "assigned": {
                "configMap": {
                    "namespace": "kube-system",
                    "name": "kubelet-config",
                    "uid": "9d8c7b6a-0000-4000-8000-000000000002",
                    "resourceVersion": "77",
                    "kubeletConfigKey": "kubelet",
                }
            },
            "error": "",
        },
        "runtimeHandlers": [
            {"name": "", "features": {"recursiveReadOnlyMounts": False}},
            {"name": "runc", "features": {"recursiveReadOnlyMounts": True}},
        ],
    },
}

SERVICE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
    "spec": {
        "ports": [
            {
                "name": "http",
                "protocol": "TCP",
                "appProtocol": "http",
                "port": 80,
                "targetPort": "http",
                "nodePort": 30080,
            },
            {
                "name": "metrics",
                "protocol": "TCP",
                "port": 9090,
                "targetPort": 9090,
                "nodePort": 30090,
            },
        ],
        "selector": {"app": "web"},
        "clusterIP": "10.96.14.7",
        "clusterIPs": ["10.96.14.7", "fd00:10:96::e07"],
        "type": "LoadBalancer",
        "externalIPs": ["192.168.1.100"],
        "sessionAffinity": "ClientIP",
        "loadBalancerIP": "192.168.1.200",
        "loadBalancerSourceRanges": ["192.168.0.0/16"],
        "externalTrafficPolicy": "Local",
        "healthCheckNodePort": 31234,
        "publishNotReadyAddresses": False,
        "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
        "ipFamilies": ["IPv4", "IPv6"],
        "ipFamilyPolicy": "PreferDualStack",
        "allocateLoadBalancerNodePorts": True,
        "loadBalancerClass": "example.com/lb",
        "internalTrafficPolicy": "Cluster",
        "trafficDistribution": "PreferClose",
    },
    "status": {
        "loadBalancer": {
            "ingress": [
                {
                    "ip": "192.168.1.200",
                    "ipMode": "VIP",
                    "ports": [
                        {"port": 80, "protocol": "TCP"},
                        {"port": 9090, "protocol": "TCP", "error": "PortUnavailable"},
                    ],
                },
                {"hostname": "lb.example.com"},
            ]
        },
        "conditions": [
            {
                "type": "LoadBalancerPortsError",
                "status": "False",
                "observedGeneration": 1,
                "lastTransitionTime": T1,
                "reason": "LoadBalancerPortsOk",
                "message": "",
            }
        ],
    },
}

EVENT: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Event",
    "metadata": {
        "name": "web-7d9f8b6c5-x2x9k.17c9a3b5e2f0a1b2",
        "namespace": "shop",
        "resourceVersion": "48300",
        "creationTimestamp": T1,
    },
    "involvedObject": {
        "kind": "Pod",
        "namespace": "shop",
        "name": "web-7d9f8b6c5-x2x9k",
        "uid": UID_POD,
        "apiVersion": "v1",
        "resourceVersion": "48100",
        "fieldPath": "spec.containers{sidecar}",
    },
    "reason": "BackOff",
    "message": "Back-off restarting failed container sidecar",
    "source": {"component": "kubelet", "host": "node-2"},
    "firstTimestamp": T1,
    "lastTimestamp": T2,
    "count": 7,
    "type": "Warning",
    "eventTime": "2024-05-01T10:00:04.123456Z",
    "series": {"count": 6, "lastObservedTime": "2024-05-01T10:07:12.654321Z"},
    "action": "Restarting",
    "related": {"kind": "Node", "name": "node-2", "apiVersion": "v1"},
    "reportingComponent": "kubelet",
    "reportingInstance": "node-2",
}

SECRET: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "db", "namespace": "shop", "labels": {"app": "web"}},
    "immutable": True,
    "data": {
        "username": b64encode(b"admin").decode(),
        "password": b64encode(b"s3cr3t\n").decode(),
    },
    "stringData": {"extra": "plain text"},
    "type": "kubernetes.io/basic-auth",
}

CONFIG_MAP: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "web-config", "namespace": "shop"},
    "immutable": False,
    "data": {"color": "blue", "nginx.conf": "events {}\n", "empty": ""},
    "binaryData": {"logo.png": b64encode(b"\x89PNG\r\n").decode()},
}

NAMESPACE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {"name": "shop", "deletionTimestamp": T2, "finalizers": ["example.com/x"]},
    "spec": {"finalizers": ["kubernetes"]},
    "status": {
        "phase": "Terminating",
        "conditions": [
            {
                "type": "NamespaceContentRemaining",
                "status": "True",
                "lastTransitionTime": T2,
                "reason": "SomeResourcesRemain",
                "message": "Some resources are remaining: pods. has 1 resource instances",
            }
        ],
    },
}

ENDPOINTS: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Endpoints",
    "metadata": {"name": "web", "namespace": "shop"},
    "subsets": [
        {
            "addresses": [
                {
                    "ip": "10.244.2.17",
                    "hostname": "web-0",
                    "nodeName": "node-2",
                    "targetRef": {
                        "kind": "Pod",
                        "namespace": "shop",
                        "name": "web-7d9f8b6c5-x2x9k",
                        "uid": UID_POD,
                    },
                }
            ],
            "notReadyAddresses": [{"ip": "10.244.1.9", "nodeName": "node-1"}],
            "ports": [
                {"name": "http", "port": 8080, "protocol": "TCP", "appProtocol": "http"},
                {"name": "metrics", "port": 9090, "protocol": "TCP"},
            ],
        }
    ],
}

SERVICE_ACCOUNT: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ServiceAccount",
    "metadata": {"name": "web", "namespace": "shop"},
    "secrets": [{"name": "web-token-abcde"}],
    "imagePullSecrets": [{"name": "registry-cred"}],
    "automountServiceAccountToken": False,
}

BINDING: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Binding",
    "metadata": {"name": "web-7d9f8b6c5-x2x9k", "namespace": "shop", "uid": UID_POD},
    "target": {"apiVersion": "v1", "kind": "Node", "name": "node-2"},
}

MANIFESTS: list[tuple[type[KubeObject], dict[str, Any]]] = [
    (Pod, POD),
    (Node, NODE),
    (Service, SERVICE),
    (Event, EVENT),
    (Secret, SECRET),
    (ConfigMap, CONFIG_MAP),
    (Namespace, NAMESPACE),
    (Endpoints, ENDPOINTS),
    (ServiceAccount, SERVICE_ACCOUNT),
    (Binding, BINDING),
]
MANIFEST_IDS = [model.KIND for model, _ in MANIFESTS]


# --- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "manifest"), MANIFESTS, ids=MANIFEST_IDS)
def test_manifest_round_trips_exactly(model: type[KubeModel], manifest: dict[str, Any]) -> None:
    original = copy.deepcopy(manifest)
    obj = model.from_dict(manifest)
    assert obj.to_dict() == original
    assert manifest == original  # parsing does not mutate its input


@pytest.mark.parametrize(("model", "manifest"), MANIFESTS, ids=MANIFEST_IDS)
def test_round_trip_through_json_is_stable(
    model: type[KubeModel], manifest: dict[str, Any]
) -> None:
    obj = model.from_dict(manifest)
    again = model.model_validate_json(obj.to_json())
    assert again == obj
    assert again.to_dict() == manifest


def test_legacy_event_keeps_empty_reporting_fields() -> None:
    # Kubernetes always emits these two (no omitempty), as "" for legacy events.
    legacy = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "x.1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "x"},
        "reason": "Scheduled",
        "reportingComponent": "",
        "reportingInstance": "",
    }
    assert Event.from_dict(legacy).to_dict() == legacy


def test_unset_fields_are_omitted_and_zero_values_kept() -> None:
    spec = PodSpec.from_dict({"containers": [{"name": "c", "stdin": False}], "hostNetwork": False})
    assert spec.to_dict() == {"containers": [{"name": "c", "stdin": False}], "hostNetwork": False}
    assert Container(name="c").to_dict() == {"name": "c"}


def test_numeric_quantities_become_text() -> None:
    container = Container.from_dict(
        {
            "name": "c",
            "resources": {"limits": {"cpu": 1, "memory": "1Gi"}, "requests": {"cpu": 0.5}},
        }
    )
    assert container.to_dict()["resources"] == {
        "limits": {"cpu": "1", "memory": "1Gi"},
        "requests": {"cpu": "0.5"},
    }


def test_kind_and_api_version_are_filled_in() -> None:
    # Empty metadata is "unset" and omitted, like every other empty struct here.
    assert Pod().to_dict() == {"apiVersion": "v1", "kind": "Pod"}
    binding = Binding(target=core.ObjectReference(kind="Node", name="n1"))
    assert binding.to_dict() == {
        "apiVersion": "v1",
        "kind": "Binding",
        "target": {"kind": "Node", "name": "n1"},
    }


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (Container, {"image": "x"}),
        (core.ContainerPort, {"name": "http"}),
        (core.EnvVar, {"value": "x"}),
        (core.Volume, {"emptyDir": {}}),
        (core.ServicePort, {"targetPort": 80}),
        (core.PodCondition, {"type": "Ready"}),
        (core.Taint, {"key": "k"}),
        (core.HTTPGetAction, {"path": "/"}),
        (core.ContainerStatus, {"name": "c", "ready": True, "restartCount": 0, "image": "i"}),
        (Binding, {"metadata": {"name": "p"}}),
        (Event, {"metadata": {"name": "e"}}),
    ],
)
def test_fields_kubernetes_requires_are_required(
    model: type[KubeModel], body: dict[str, Any]
) -> None:
    with pytest.raises(pydantic.ValidationError):
        model.from_dict(body)


def test_int_or_string_ports_keep_their_type() -> None:
    svc = Service.from_dict(SERVICE)
    assert svc.spec is not None
    assert [p.target_port for p in svc.spec.ports] == ["http", 9090]
    pod = Pod.from_dict(POD)
    assert pod.spec is not None
    probe = pod.spec.containers[0].liveness_probe
    assert probe is not None and probe.http_get is not None
    assert probe.http_get.port == "http"
    with pytest.raises(pydantic.ValidationError):
        core.TCPSocketAction.from_dict({"port": True})


def test_times_parse_to_aware_datetimes() -> None:
    event = Event.from_dict(EVENT)
    assert event.first_timestamp == datetime(2024, 5, 1, 10, 0, 4, tzinfo=UTC)
    assert event.event_time == datetime(2024, 5, 1, 10, 0, 4, 123456, tzinfo=UTC)
    assert event.series is not None
    assert event.series.last_observed_time is not None
    assert event.series.last_observed_time.microsecond == 654321


# --- wire names and Python access ---------------------------------------------------------


def test_tricky_wire_names_appear_in_the_output() -> None:
    pod = Pod.from_dict(POD).to_dict()
    spec, status = pod["spec"], pod["status"]
    for key in ("hostIPC", "hostPID", "hostNetwork", "setHostnameAsFQDN", "dnsPolicy"):
        assert key in spec
    for key in ("podIP", "podIPs", "hostIP", "hostIPs", "qosClass", "nominatedNodeName"):
        assert key in status
    web = spec["containers"][0]
    assert {"stdinOnce", "tty", "workingDir", "volumeMounts"} <= set(web)
    assert "tcpSocket" in web["readinessProbe"]
    assert "httpHeaders" in web["livenessProbe"]["httpGet"]
    assert "seLinuxOptions" in web["securityContext"]
    assert status["containerStatuses"][0]["imageID"].startswith("docker-pullable://")
    svc = Service.from_dict(SERVICE).to_dict()["spec"]
    for key in ("clusterIP", "clusterIPs", "externalIPs", "loadBalancerIP", "ipFamilies"):
        assert key in svc
    assert svc["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    node = Node.from_dict(NODE).to_dict()
    assert node["status"]["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}
    assert {"machineID", "systemUUID", "bootID"} <= set(node["status"]["nodeInfo"])
    assert {"podCIDR", "podCIDRs", "providerID", "externalID"} <= set(node["spec"])


def test_snake_case_access() -> None:
    pod = Pod.from_dict(POD)
    assert pod.spec is not None and pod.status is not None
    assert pod.spec.host_ipc is False
    assert pod.spec.share_process_namespace is True
    assert pod.spec.set_hostname_as_fqdn is True
    assert pod.spec.service_account == "web"
    assert pod.status.pod_ip == "10.244.2.17"
    assert [ip.ip for ip in pod.status.pod_ips] == ["10.244.2.17", "fd00:10:244:2::17"]
    assert pod.status.host_ips[1].ip == "fd00::12"
    assert pod.status.qos_class == "Burstable"
    web = pod.spec.containers[0]
    assert web.ports[1].host_ip == "127.0.0.1"
    assert web.ports[1].host_port == 19090
    assert web.volume_mounts[2].sub_path_expr == "$(POD_NAME)"
    assert web.security_context is not None
    assert web.security_context.read_only_root_filesystem is True
    assert web.security_context.se_linux_options is not None
    assert web.security_context.se_linux_options.level == "s0:c123,c456"
    assert web.env[2].value_from is not None
    assert web.env[2].value_from.field_ref is not None
    assert web.env[2].value_from.field_ref.field_path == "status.podIP"
    assert web.resources is not None and web.resources.limits["ephemeral-storage"] == "2Gi"
    assert pod.spec.volumes[5].projected is not None
    assert pod.spec.volumes[5].projected.sources[2].downward_api is not None
    assert pod.spec.volumes[11].scale_io == {
        "gateway": "https://sio:443",
        "system": "sio",
        "secretRef": {"name": "sio-secret"},
        "sslEnabled": True,
    }
    assert pod.spec.ephemeral_containers[0].target_container_name == "web"
    cstat = pod.status.container_statuses[0]
    assert cstat.last_state is not None and cstat.last_state.terminated is not None
    assert cstat.last_state.terminated.exit_code == 137
    assert cstat.image_id == "docker-pullable://shop/web@sha256:0123abcd"
    node = Node.from_dict(NODE)
    assert node.spec is not None and node.status is not None
    assert node.spec.pod_cidrs == ["10.244.2.0/24", "fd00:10:244:2::/64"]
    assert node.status.daemon_endpoints is not None
    assert node.status.daemon_endpoints.kubelet_endpoint is not None
    assert node.status.daemon_endpoints.kubelet_endpoint.port == 10250
    assert node.status.node_info is not None
    assert node.status.node_info.system_uuid == "4c4c4544-0042-3510-8052-b4c04f4e3232"
    svc = Service.from_dict(SERVICE)
    assert svc.spec is not None
    assert svc.spec.cluster_ips == ["10.96.14.7", "fd00:10:96::e07"]
    assert svc.spec.session_affinity_config is not None
    assert svc.spec.session_affinity_config.client_ip is not None
    assert svc.spec.session_affinity_config.client_ip.timeout_seconds == 10800


def test_python_names_build_the_wire_form() -> None:
    spec = PodSpec(
        containers=[Container(name="c", tty=True, stdin_once=True)],
        set_hostname_as_fqdn=True,
        host_pid=True,
    )
    assert spec.to_dict() == {
        "containers": [{"name": "c", "stdinOnce": True, "tty": True}],
        "hostPID": True,
        "setHostnameAsFQDN": True,
    }
    endpoint = core.DaemonEndpoint(port=10250)
    assert endpoint.to_dict() == {"Port": 10250}
    volume = Volume(name="v", scale_io={"gateway": "g"})
    assert volume.to_dict() == {"name": "v", "scaleIO": {"gateway": "g"}}


# (class, Python field, Kubernetes json tag), read from core/v1/types.go.
TRICKY_WIRE_NAMES: list[tuple[str, str, str]] = [
    ("PodStatus", "pod_ip", "podIP"),
    ("PodStatus", "pod_ips", "podIPs"),
    ("PodStatus", "host_ip", "hostIP"),
    ("PodStatus", "host_ips", "hostIPs"),
    ("PodStatus", "qos_class", "qosClass"),
    ("PodStatus", "nominated_node_name", "nominatedNodeName"),
    ("ServiceSpec", "cluster_ip", "clusterIP"),
    ("ServiceSpec", "cluster_ips", "clusterIPs"),
    ("ServiceSpec", "external_ips", "externalIPs"),
    ("ServiceSpec", "load_balancer_ip", "loadBalancerIP"),
    ("ServiceSpec", "ip_families", "ipFamilies"),
    ("ServiceSpec", "ip_family_policy", "ipFamilyPolicy"),
    ("ServiceSpec", "external_name", "externalName"),
    ("ServiceSpec", "allocate_load_balancer_node_ports", "allocateLoadBalancerNodePorts"),
    ("ServiceSpec", "health_check_node_port", "healthCheckNodePort"),
    ("SessionAffinityConfig", "client_ip", "clientIP"),
    ("ClientIPConfig", "timeout_seconds", "timeoutSeconds"),
    ("ServicePort", "target_port", "targetPort"),
    ("ServicePort", "node_port", "nodePort"),
    ("ServicePort", "app_protocol", "appProtocol"),
    ("LoadBalancerIngress", "ip_mode", "ipMode"),
    ("PodSpec", "host_ipc", "hostIPC"),
    ("PodSpec", "host_pid", "hostPID"),
    ("PodSpec", "host_network", "hostNetwork"),
    ("PodSpec", "dns_policy", "dnsPolicy"),
    ("PodSpec", "dns_config", "dnsConfig"),
    ("PodSpec", "set_hostname_as_fqdn", "setHostnameAsFQDN"),
    ("PodSpec", "scheduling_gates", "schedulingGates"),
    ("PodSpec", "service_account", "serviceAccount"),
    ("PodSpec", "host_users", "hostUsers"),
    ("NodeSpec", "pod_cidr", "podCIDR"),
    ("NodeSpec", "pod_cidrs", "podCIDRs"),
    ("NodeSpec", "provider_id", "providerID"),
    ("NodeSpec", "external_id", "externalID"),
    ("NodeSystemInfo", "machine_id", "machineID"),
    ("NodeSystemInfo", "system_uuid", "systemUUID"),
    ("NodeSystemInfo", "boot_id", "bootID"),
    ("NodeSystemInfo", "os_image", "osImage"),
    ("DaemonEndpoint", "port", "Port"),
    ("ContainerStatus", "container_id", "containerID"),
    ("ContainerStatus", "image_id", "imageID"),
    ("ContainerStatus", "last_state", "lastState"),
    ("ContainerStateTerminated", "container_id", "containerID"),
    ("SecurityContext", "se_linux_options", "seLinuxOptions"),
    ("SecurityContext", "run_as_user", "runAsUser"),
    ("SecurityContext", "read_only_root_filesystem", "readOnlyRootFilesystem"),
    ("SecurityContext", "app_armor_profile", "appArmorProfile"),
    ("PodSecurityContext", "fs_group", "fsGroup"),
    ("PodSecurityContext", "fs_group_change_policy", "fsGroupChangePolicy"),
    ("WindowsSecurityContextOptions", "gmsa_credential_spec_name", "gmsaCredentialSpecName"),
    ("Probe", "tcp_socket", "tcpSocket"),
    ("Probe", "http_get", "httpGet"),
    ("Probe", "grpc", "grpc"),
    ("HTTPGetAction", "http_headers", "httpHeaders"),
    ("Container", "tty", "tty"),
    ("Container", "stdin_once", "stdinOnce"),
    ("Container", "termination_message_path", "terminationMessagePath"),
    ("Container", "image_pull_policy", "imagePullPolicy"),
    ("ContainerPort", "host_port", "hostPort"),
    ("ContainerPort", "host_ip", "hostIP"),
    ("VolumeMount", "sub_path_expr", "subPathExpr"),
    ("Volume", "downward_api", "downwardAPI"),
    ("Volume", "scale_io", "scaleIO"),
    ("Volume", "storageos", "storageos"),
    ("Volume", "cephfs", "cephfs"),
    ("Volume", "iscsi", "iscsi"),
    ("Volume", "aws_elastic_block_store", "awsElasticBlockStore"),
    ("Volume", "gce_persistent_disk", "gcePersistentDisk"),
    ("VolumeProjection", "downward_api", "downwardAPI"),
    ("CSIVolumeSource", "fs_type", "fsType"),
    ("ObjectReference", "api_version", "apiVersion"),
    ("ObjectReference", "uid", "uid"),
    ("ObjectFieldSelector", "api_version", "apiVersion"),
    ("TypedLocalObjectReference", "api_group", "apiGroup"),
    ("ConfigMapNodeConfigSource", "uid", "uid"),
    ("Event", "reporting_component", "reportingComponent"),
    ("Event", "event_time", "eventTime"),
    ("Event", "involved_object", "involvedObject"),
    ("EndpointAddress", "target_ref", "targetRef"),
    ("EndpointSubset", "not_ready_addresses", "notReadyAddresses"),
    ("ConfigMap", "binary_data", "binaryData"),
    ("Secret", "string_data", "stringData"),
    ("ServiceAccount", "automount_service_account_token", "automountServiceAccountToken"),
    (
        "NodeAffinity",
        "required_during_scheduling_ignored_during_execution",
        "requiredDuringSchedulingIgnoredDuringExecution",
    ),
    ("PodAffinityTerm", "mismatch_label_keys", "mismatchLabelKeys"),
    ("TopologySpreadConstraint", "when_unsatisfiable", "whenUnsatisfiable"),
    ("Toleration", "toleration_seconds", "tolerationSeconds"),
    ("NodeRuntimeHandlerFeatures", "recursive_read_only_mounts", "recursiveReadOnlyMounts"),
    ("NodeStatus", "volumes_in_use", "volumesInUse"),
    ("ContainerImage", "size_bytes", "sizeBytes"),
    ("Pod", "api_version", "apiVersion"),
]


@pytest.mark.parametrize(("cls_name", "field", "wire"), TRICKY_WIRE_NAMES)
def test_tricky_field_alias(cls_name: str, field: str, wire: str) -> None:
    model = core_models()[cls_name]
    assert model.model_fields[field].alias == wire
    # The wire name is accepted on input and lands on the snake_case field.
    assert wire in model.model_json_schema(by_alias=True).get("properties", {})


def test_every_model_matches_the_go_json_tags() -> None:
    models = core_models()
    assert set(models) == set(GO_JSON_FIELDS), "a model was added or removed: update the table"
    mismatches = {}
    for name, model in models.items():
        ours = {str(info.alias) for info in model.model_fields.values()}
        theirs = set(GO_JSON_FIELDS[name].split())
        if ours != theirs:
            mismatches[name] = (sorted(ours - theirs), sorted(theirs - ours))
    assert mismatches == {}


def test_every_alias_is_a_camel_case_go_spelling() -> None:
    # Guards against a field whose alias silently fell back to its Python name.
    for name, model in core_models().items():
        for field, info in model.model_fields.items():
            assert info.alias is not None, (name, field)
            assert "_" not in info.alias, (name, field)


# --- patch metadata -----------------------------------------------------------------------

# (class, field, patchStrategy, patchMergeKey, listType, listMapKeys), from the struct tags
# and +listType/+listMapKey markers of core/v1/types.go.
PATCH_METADATA: list[tuple[str, str, str | None, str | None, str | None, list[str] | None]] = [
    ("PodSpec", "containers", "merge", "name", "map", ["name"]),
    ("PodSpec", "init_containers", "merge", "name", "map", ["name"]),
    ("PodSpec", "ephemeral_containers", "merge", "name", "map", ["name"]),
    ("PodSpec", "volumes", "merge,retainKeys", "name", "map", ["name"]),
    ("PodSpec", "image_pull_secrets", "merge", "name", "map", ["name"]),
    ("PodSpec", "host_aliases", "merge", "ip", "map", ["ip"]),
    (
        "PodSpec",
        "topology_spread_constraints",
        "merge",
        "topologyKey",
        "map",
        ["topologyKey", "whenUnsatisfiable"],
    ),
    ("PodSpec", "scheduling_gates", "merge", "name", "map", ["name"]),
    ("PodSpec", "resource_claims", "merge,retainKeys", "name", "map", ["name"]),
    ("PodSpec", "tolerations", None, None, None, None),
    ("PodSpec", "readiness_gates", None, None, None, None),
    ("Container", "ports", "merge", "containerPort", "map", ["containerPort", "protocol"]),
    ("Container", "env", "merge", "name", "map", ["name"]),
    ("Container", "volume_mounts", "merge", "mountPath", "map", ["mountPath"]),
    ("Container", "volume_devices", "merge", "devicePath", "map", ["devicePath"]),
    ("Container", "env_from", None, None, None, None),
    ("EphemeralContainer", "ports", "merge", "containerPort", "map", ["containerPort", "protocol"]),
    ("EphemeralContainer", "env", "merge", "name", "map", ["name"]),
    ("ResourceRequirements", "claims", None, None, "map", ["name"]),
    ("ContainerStatus", "volume_mounts", "merge", "mountPath", "map", ["mountPath"]),
    ("PodStatus", "conditions", "merge", "type", "map", ["type"]),
    ("PodStatus", "pod_ips", "merge", "ip", "map", ["ip"]),
    ("PodStatus", "host_ips", "merge", "ip", "atomic", None),
    ("PodStatus", "resource_claim_statuses", "merge,retainKeys", "name", "map", ["name"]),
    ("PodStatus", "container_statuses", None, None, None, None),
    ("NodeSpec", "pod_cidrs", "merge", None, "set", None),
    ("NodeSpec", "taints", None, None, None, None),
    ("NodeStatus", "conditions", "merge", "type", "map", ["type"]),
    ("NodeStatus", "addresses", "merge", "type", "map", ["type"]),
    ("NodeStatus", "images", None, None, None, None),
    ("NamespaceStatus", "conditions", "merge", "type", "map", ["type"]),
    ("NamespaceSpec", "finalizers", None, None, None, None),
    ("ServiceSpec", "ports", "merge", "port", "map", ["port", "protocol"]),
    ("ServiceSpec", "cluster_ips", None, None, None, None),
    ("ServiceStatus", "conditions", "merge", "type", "map", ["type"]),
    ("ServiceAccount", "secrets", "merge", "name", "map", ["name"]),
    ("ServiceAccount", "image_pull_secrets", None, None, None, None),
    ("Endpoints", "subsets", None, None, None, None),
    ("EndpointSubset", "addresses", None, None, None, None),
]


@pytest.mark.parametrize(
    ("cls_name", "field", "strategy", "merge_key", "list_type", "map_keys"), PATCH_METADATA
)
def test_patch_metadata_matches_kubernetes(
    cls_name: str,
    field: str,
    strategy: str | None,
    merge_key: str | None,
    list_type: str | None,
    map_keys: list[str] | None,
) -> None:
    extra = core_models()[cls_name].model_fields[field].json_schema_extra or {}
    assert isinstance(extra, dict)
    assert extra.get(PATCH_STRATEGY) == strategy
    assert extra.get(PATCH_MERGE_KEY) == merge_key
    assert extra.get(LIST_TYPE) == list_type
    assert extra.get(LIST_MAP_KEYS) == map_keys


def _list_item_model(model: type[KubeModel], field: str) -> type[KubeModel] | None:
    annotation = model.model_fields[field].annotation
    args = getattr(annotation, "__args__", ())
    item = args[0] if args else None
    return item if inspect.isclass(item) and issubclass(item, KubeModel) else None


def test_every_merge_key_names_a_field_of_the_item() -> None:
    checked = 0
    for name, model in core_models().items():
        for field, info in model.model_fields.items():
            extra = info.json_schema_extra
            if not isinstance(extra, dict):
                continue
            map_keys = extra.get(LIST_MAP_KEYS) or []
            assert isinstance(map_keys, list)
            keys = [extra[PATCH_MERGE_KEY]] if PATCH_MERGE_KEY in extra else []
            keys += map_keys
            if not keys:
                continue
            item = _list_item_model(model, field)
            assert item is not None, (name, field)
            aliases = {f.alias for f in item.model_fields.values()}
            assert set(keys) <= aliases, (name, field, keys)
            checked += 1
    assert checked >= 25


def test_volume_sources_are_not_lists_but_volumes_retain_keys() -> None:
    extra = PodSpec.model_fields["volumes"].json_schema_extra
    assert isinstance(extra, dict)
    assert extra[PATCH_STRATEGY] == "merge,retainKeys"
    assert Volume.model_fields["empty_dir"].json_schema_extra is None


# --- the official Python client reads what we write -----------------------------------------

# Fields of Kubernetes 1.30 that newer clients no longer have (DRA's claim source was
# flattened into PodResourceClaim in 1.31).
GONE_FROM_NEWER_CLIENTS = {("PodResourceClaim", "source")}


def _client_class(name: str) -> Any:
    return getattr(official_client, "V1" + name, None) or getattr(
        official_client, "CoreV1" + name, None
    )


def test_wire_names_are_known_to_the_official_client() -> None:
    unknown = []
    for name, model in core_models().items():
        client_cls = _client_class(name)
        if client_cls is None:  # ProbeHandler, ClaimSource: inlined or gone in the client
            continue
        known = set(client_cls.attribute_map.values())
        for info in model.model_fields.values():
            if info.alias not in known and (name, info.alias) not in GONE_FROM_NEWER_CLIENTS:
                unknown.append((name, info.alias))
    assert unknown == []


@pytest.mark.parametrize(("model", "manifest"), MANIFESTS, ids=MANIFEST_IDS)
def test_official_client_deserializes_our_output(
    model: type[KubeModel], manifest: dict[str, Any]
) -> None:
    client_cls = _client_class(model.__name__)
    assert client_cls is not None
    ours = model.from_dict(manifest).to_dict()
    theirs = client_cls.from_dict(ours)
    assert theirs is not None
    assert theirs.to_dict()["metadata"]["name"] == manifest["metadata"]["name"]


# --- helpers ------------------------------------------------------------------------------


def _pod_in_phase(phase: str | None, ready: str | None = None) -> Pod:
    status: dict[str, Any] = {}
    if phase is not None:
        status["phase"] = phase
    if ready is not None:
        status["conditions"] = [{"type": "Ready", "status": ready}]
    return Pod.from_dict({"metadata": {"name": "p"}, "status": status})


@pytest.mark.parametrize(
    ("phase", "terminal"),
    [
        ("Succeeded", True),
        ("Failed", True),
        ("Running", False),
        ("Pending", False),
        ("Unknown", False),
        (None, False),
    ],
)
def test_pod_is_terminal(phase: str | None, terminal: bool) -> None:
    assert _pod_in_phase(phase).is_terminal() is terminal


def test_pod_without_status_is_neither_terminal_nor_ready() -> None:
    pod = Pod.from_dict({"metadata": {"name": "p"}})
    assert pod.is_terminal() is False
    assert pod.is_ready() is False
    assert pod.phase() is None
    assert pod.node_name() is None
    assert pod.container("web") is None
    assert pod.container_port_named("http") is None


def test_pod_readiness_and_conditions() -> None:
    assert _pod_in_phase("Running", "True").is_ready() is True
    assert _pod_in_phase("Running", "False").is_ready() is False
    assert _pod_in_phase("Running").is_ready() is False
    pod = Pod.from_dict(POD)
    assert pod.is_ready() is True
    assert pod.status is not None
    scheduled = pod.status.condition("PodScheduled")
    assert scheduled is not None and scheduled.last_transition_time is not None
    assert pod.status.condition("DisruptionTarget") is None


def test_pod_containers_and_named_ports() -> None:
    pod = Pod.from_dict(POD)
    assert pod.node_name() == "node-2"
    web = pod.container("web")
    assert web is not None and web.image == "shop/web:1.4.2"
    migrate = pod.container("migrate")
    assert migrate is not None and migrate.args == ["--up"]
    assert pod.container("debugger-k7x2") is None
    assert pod.container_port_named("metrics") == 9090
    assert pod.container_port_named("http") == 8080
    assert pod.container_port_named("nope") is None
    assert web.port_named("metrics") is not None
    unscheduled = Pod.from_dict({"spec": {"containers": [{"name": "c"}], "nodeName": ""}})
    assert unscheduled.node_name() is None


def _taint(key: str, effect: str, value: str | None = None) -> Taint:
    return Taint(key=key, effect=effect, value=value)


@pytest.mark.parametrize(
    ("toleration", "taint", "tolerated"),
    [
        (
            {"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"},
            ("k", "NoSchedule", "v"),
            True,
        ),
        ({"key": "k", "value": "v"}, ("k", "NoExecute", "v"), True),
        ({"key": "k", "value": "v"}, ("k", "NoExecute", "w"), False),
        ({"key": "k", "operator": "Equal"}, ("k", "NoSchedule", None), True),
        ({"key": "k", "operator": "Equal", "value": ""}, ("k", "NoSchedule", None), True),
        ({"key": "k", "operator": "Exists"}, ("k", "NoSchedule", "anything"), True),
        (
            {"key": "k", "operator": "Exists", "effect": "NoExecute"},
            ("k", "NoSchedule", None),
            False,
        ),
        ({"key": "other", "operator": "Exists"}, ("k", "NoSchedule", None), False),
        ({"operator": "Exists"}, ("any", "PreferNoSchedule", "x"), True),
        ({"operator": "Exists", "effect": "NoSchedule"}, ("any", "NoSchedule", None), True),
        ({"key": "k", "operator": "Bogus", "value": "v"}, ("k", "NoSchedule", "v"), False),
    ],
)
def test_toleration_tolerates(
    toleration: dict[str, Any], taint: tuple[str, str, str | None], tolerated: bool
) -> None:
    assert Toleration.from_dict(toleration).tolerates(_taint(*taint)) is tolerated


def test_node_helpers() -> None:
    node = Node.from_dict(NODE)
    assert node.is_ready() is True
    assert node.is_unschedulable() is True
    assert [t.key for t in node.taints()] == ["node.kubernetes.io/unschedulable", "dedicated"]
    assert node.status is not None
    assert node.status.address("InternalIP") == "192.168.1.12"
    assert node.status.address("ExternalIP") is None
    memory = node.status.condition("MemoryPressure")
    assert memory is not None and memory.status == "False"
    bare = Node.from_dict({"metadata": {"name": "n"}})
    assert bare.is_ready() is False
    assert bare.is_unschedulable() is False
    assert bare.taints() == []
    not_ready = Node.from_dict({"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}})
    assert not_ready.is_ready() is False


def test_service_is_headless() -> None:
    assert Service.from_dict(SERVICE).is_headless() is False
    assert Service.from_dict({"spec": {"clusterIP": "None"}}).is_headless() is True
    assert Service().is_headless() is False


def test_namespace_is_terminating() -> None:
    assert Namespace.from_dict(NAMESPACE).is_terminating() is True
    assert Namespace.from_dict({"status": {"phase": "Active"}}).is_terminating() is False
    assert Namespace().is_terminating() is False


def test_secret_decoded_overlays_string_data() -> None:
    secret = Secret.from_dict(SECRET)
    assert secret.decoded() == {
        "username": b"admin",
        "password": b"s3cr3t\n",
        "extra": b"plain text",
    }
    both = Secret.from_dict({"data": {"k": b64encode(b"old").decode()}, "stringData": {"k": "new"}})
    assert both.decoded() == {"k": b"new"}
    with pytest.raises(ValueError):
        Secret.from_dict({"data": {"k": "not base64!"}}).decoded()


@pytest.mark.parametrize(
    ("volume", "source"),
    [(v, next(k for k in v if k != "name")) for v in POD["spec"]["volumes"]],
    ids=lambda v: v if isinstance(v, str) else v["name"],
)
def test_volume_source_type(volume: dict[str, Any], source: str) -> None:
    assert Volume.from_dict(volume).source_type() == source


def test_volume_without_source() -> None:
    assert Volume(name="v").source_type() is None


def test_well_known_values() -> None:
    assert core.PodPhase.SUCCEEDED == "Succeeded"
    assert core.NodeConditionType.PID_PRESSURE == "PIDPressure"
    assert core.TaintEffect.NO_EXECUTE == "NoExecute"
    assert core.CLUSTER_IP_NONE == "None"


def test_pod_template_spec_round_trips_the_pod_spec() -> None:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": POD["spec"]}
    parsed = core.PodTemplateSpec.from_dict(template)
    assert parsed.metadata.labels == {"app": "web"}
    assert parsed.to_dict() == template
    assert core.PodTemplateSpec().metadata.labels == {}
