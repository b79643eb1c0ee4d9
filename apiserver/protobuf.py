"""Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) as the JSON-shaped dicts we store.

Why: since 1.32 client-go's generated typed clients send create, update and delete bodies as protobuf (kubectl
create configmap/secret/deployment/..., kubectl auth can-i/whoami/reconcile, create token, autoscale, debug
--copy-to, certificate approve, drain, Helm's release Secrets), and they never fall back to JSON on a 415.
We answer in JSON (they accept it); only the bodies need reading. There is no protobuf library here: the wire
format is small, and the schema is a table.

The body: the magic `k8s\\x00`, then a `runtime.Unknown` envelope {1 typeMeta {1 apiVersion, 2 kind},
2 raw, 3 contentEncoding, 4 contentType}; `raw` is the object's own message, read with the table (`KINDS`
names each kind's message, `messages()` holds their fields).

How the field table was made (it is derived, not copied: no .proto file or generated code is used). Go's
protobuf encoding of the kube types writes field numbers, and kubectl's `--dry-run=client -o json` writes
the same Go object as JSON, so running the real kubectl twice for one command, once against a capture
server on 127.0.0.1 and once with `--dry-run=client -o json`, shows which field-number path carries which
JSON path when every value is a unique marker (`tests/apiserver/protobuf_capture.py`; `python -m
tests.apiserver.protobuf_capture --write` derives the table again and puts it below, and
tests/apiserver/test_protobuf.py fails when the two differ):

- flags: each kubectl create/auth/autoscale command is run with unique marker values for its flags;
- whole objects: kubectl re-sends objects it read from the server as protobuf (`create job --from=cronjob`
  sends the CronJob's job template, `certificate approve` the CSR, `auth reconcile` the RBAC objects from a
  file), so the capture server serves objects built from the OpenAPI schema with a unique marker in every
  field (several variants, so that booleans, which can't be unique, differ in a pattern of bits);
- inline parts: a wire field holding the values of several JSON fields is a Go embedded struct (VolumeSource
  in Volume, ProbeHandler in Probe, LocalObjectReference in the key selectors), flattened by JSON;
- zero values: a "sparse" object (every message present, no scalars) shows which scalar fields Go always
  writes (non-pointer fields: their zero value means "unset"), and its `--dry-run=client -o json` shows
  which of those Go's JSON still prints when zero (no `omitempty`).

Only what was observed is in the table: a field no kubectl or Helm command sets (DeleteOptions'
propagationPolicy and preconditions, a ConfigMap's immutable, most of a Service's spec) is refused with 415
until a capture shows its number.

The type of each field (string, int32, bytes, map, message, ...) comes from the OpenAPI schema.

How values are turned into JSON (Go's JSON rules, so the dict equals what a JSON client would have sent):
- a scalar marked `*` in the table keeps its zero value (a pointer, like `replicas`, or a field without
  `omitempty`, like a container's `name`); other scalars are omitted when zero, as `omitempty` omits them;
- a message present on the wire is always written, even empty (`emptyDir: {}`), except a zero Time;
- lists and maps are written when they have entries; bytes (Secret data, a map of bytes) become base64;
- Time {seconds, nanos} is RFC 3339 (MicroTime with microseconds), Quantity its string, IntOrString an
  int or a string, FieldsV1 its raw JSON.

An unknown field number that carries a non-zero value is refused with 415 naming the kind and the field
(nothing is dropped silently); an unknown field holding only zeros is skipped: Go writes every non-pointer
field, set or not (a `status` struct of zero strings and numbers, a field newer than the table), and that
carries nothing. Malformed protobuf is a 400.
"""

from __future__ import annotations

import base64
import datetime
import functools
import math
import struct
from dataclasses import dataclass
from typing import Any

import orjson

from apiserver.codec import go_float
from machinery import BadRequest, UnsupportedMediaType

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"  # k8s.io/apimachinery/pkg/runtime/serializer/protobuf: the 4-byte prefix of every body
MAX_DEPTH = 100  # nesting of messages; the deepest built-in object (a pod template's volumes) is ~15

Obj = dict[str, Any]

# Wire types (protobuf encoding): 0 varint, 1 fixed 64-bit, 2 length-delimited, 5 fixed 32-bit.
VARINT, FIXED64, BYTES, FIXED32 = 0, 1, 2, 5


# ----------------------------------------------------------------------------------------------------------
# The wire format


def fields(buf: bytes) -> list[tuple[int, int, int | bytes]]:
    """The (field number, wire type, value) triples of one message; BadRequest if it isn't well formed.

    A varint is an int (unsigned 64-bit), fixed values are their raw bytes, length-delimited ones their bytes.
    """
    out: list[tuple[int, int, int | bytes]] = []
    i, end = 0, len(buf)
    while i < end:
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise BadRequest("the protobuf body is malformed: field number 0")
        value: int | bytes
        if wire == VARINT:
            value, i = _varint(buf, i)
        elif wire == BYTES:
            size, i = _varint(buf, i)
            if size > end - i:
                raise BadRequest("the protobuf body is malformed: a length runs past the end")
            value, i = buf[i : i + size], i + size
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
            if size > end - i:
                raise BadRequest("the protobuf body is malformed: a fixed-size value runs past the end")
            value, i = buf[i : i + size], i + size
        else:  # 3 and 4 are proto2 groups, which kube never writes; 6 and 7 don't exist
            raise BadRequest(f"the protobuf body is malformed: wire type {wire} in field {number}")
        out.append((number, wire, value))
    return out


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    for _ in range(10):  # a 64-bit varint takes at most 10 bytes
        if i >= len(buf):
            raise BadRequest("the protobuf body is malformed: it ends inside a varint")
        byte = buf[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, i
        shift += 7
    raise BadRequest("the protobuf body is malformed: a varint is longer than 10 bytes")


# ----------------------------------------------------------------------------------------------------------
# The schema: (apiVersion, kind) -> message, message -> field number -> (JSON name, type)

# Each field is "<number> <JSON name> <type>". Types: a scalar (string, bytes, bool, int32, int64, double) or
# a message name; `[]T` repeated, `map[string]T` a map; a leading `*` keeps a zero value (see the module
# docstring). The JSON name `...` marks an inline part: a Go embedded struct, which protobuf nests in a field
# of its own and JSON flattens (`core.v1.Volume/2` holds the volume sources); its fields join the owner's.
# The table below is generated: rerun `python -m tests.apiserver.protobuf_capture --write`, don't edit it.

KINDS: dict[tuple[str, str], str] = {
    # TABLE-KINDS-BEGIN (generated by tests/apiserver/protobuf_capture.py)
    ("apps/v1", "Deployment"): "apps.v1.Deployment",
    ("authentication.k8s.io/v1", "SelfSubjectReview"): "authentication.v1.SelfSubjectReview",
    ("authentication.k8s.io/v1", "TokenRequest"): "authentication.v1.TokenRequest",
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): "authorization.v1.SelfSubjectAccessReview",
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): "authorization.v1.SelfSubjectRulesReview",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "autoscaling.v2.HorizontalPodAutoscaler",
    ("batch/v1", "CronJob"): "batch.v1.CronJob",
    ("batch/v1", "Job"): "batch.v1.Job",
    ("certificates.k8s.io/v1", "CertificateSigningRequest"): "certificates.v1.CertificateSigningRequest",
    ("networking.k8s.io/v1", "Ingress"): "networking.v1.Ingress",
    ("policy/v1", "PodDisruptionBudget"): "policy.v1.PodDisruptionBudget",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "rbac.v1.ClusterRole",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "rbac.v1.ClusterRoleBinding",
    ("rbac.authorization.k8s.io/v1", "Role"): "rbac.v1.Role",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "rbac.v1.RoleBinding",
    ("scheduling.k8s.io/v1", "PriorityClass"): "scheduling.v1.PriorityClass",
    ("v1", "ConfigMap"): "core.v1.ConfigMap",
    ("v1", "DeleteOptions"): "meta.v1.DeleteOptions",
    ("v1", "Namespace"): "core.v1.Namespace",
    ("v1", "Pod"): "core.v1.Pod",
    ("v1", "ResourceQuota"): "core.v1.ResourceQuota",
    ("v1", "Secret"): "core.v1.Secret",
    ("v1", "Service"): "core.v1.Service",
    ("v1", "ServiceAccount"): "core.v1.ServiceAccount",
    # TABLE-KINDS-END
}

_TABLE: dict[str, str] = {
    # TABLE-MESSAGES-BEGIN (generated by tests/apiserver/protobuf_capture.py)
    "apps.v1.Deployment": "1 metadata meta.v1.ObjectMeta, 2 spec apps.v1.DeploymentSpec",
    "apps.v1.DeploymentSpec": "1 replicas *int32, 2 selector meta.v1.LabelSelector, "
        "3 template core.v1.PodTemplateSpec",
    "authentication.v1.BoundObjectReference": "1 kind *string, 2 apiVersion *string, 3 name *string, 4 uid *string",
    "authentication.v1.TokenRequest": "2 spec authentication.v1.TokenRequestSpec",
    "authentication.v1.TokenRequestSpec": "1 audiences []string, "
        "3 boundObjectRef authentication.v1.BoundObjectReference, 4 expirationSeconds *int64",
    "authorization.v1.NonResourceAttributes": "1 path *string, 2 verb *string",
    "authorization.v1.ResourceAttributes": "1 namespace string, 2 verb *string, 3 group string, 5 resource *string, "
        "6 subresource string, 7 name string",
    "authorization.v1.SelfSubjectAccessReview": "2 spec authorization.v1.SelfSubjectAccessReviewSpec",
    "authorization.v1.SelfSubjectAccessReviewSpec": "1 resourceAttributes authorization.v1.ResourceAttributes, "
        "2 nonResourceAttributes authorization.v1.NonResourceAttributes",
    "authorization.v1.SelfSubjectRulesReview": "2 spec authorization.v1.SelfSubjectRulesReviewSpec",
    "authorization.v1.SelfSubjectRulesReviewSpec": "1 namespace *string",
    "autoscaling.v2.CrossVersionObjectReference": "1 kind *string, 2 name *string, 3 apiVersion *string",
    "autoscaling.v2.HorizontalPodAutoscaler": "1 metadata meta.v1.ObjectMeta, "
        "2 spec autoscaling.v2.HorizontalPodAutoscalerSpec",
    "autoscaling.v2.HorizontalPodAutoscalerSpec": "1 scaleTargetRef autoscaling.v2.CrossVersionObjectReference, "
        "2 minReplicas *int32, 3 maxReplicas *int32, 4 metrics []autoscaling.v2.MetricSpec",
    "autoscaling.v2.MetricSpec": "1 type *string, 4 resource autoscaling.v2.ResourceMetricSource",
    "autoscaling.v2.MetricTarget": "1 type *string, 3 averageValue *resource.Quantity, 4 averageUtilization *int32",
    "autoscaling.v2.ResourceMetricSource": "1 name *string, 2 target autoscaling.v2.MetricTarget",
    "batch.v1.CronJob": "1 metadata meta.v1.ObjectMeta, 2 spec batch.v1.CronJobSpec",
    "batch.v1.CronJobSpec": "1 schedule *string, 5 jobTemplate batch.v1.JobTemplateSpec",
    "batch.v1.Job": "1 metadata meta.v1.ObjectMeta, 2 spec batch.v1.JobSpec",
    "batch.v1.JobSpec": "1 parallelism *int32, 2 completions *int32, 3 activeDeadlineSeconds *int64, "
        "4 selector meta.v1.LabelSelector, 5 manualSelector *bool, 6 template core.v1.PodTemplateSpec, "
        "7 backoffLimit *int32, 8 ttlSecondsAfterFinished *int32, 9 completionMode *string, 10 suspend *bool, "
        "11 podFailurePolicy batch.v1.PodFailurePolicy, 12 backoffLimitPerIndex *int32, 13 maxFailedIndexes *int32, "
        "14 podReplacementPolicy *string, 15 managedBy *string, 16 successPolicy batch.v1.SuccessPolicy",
    "batch.v1.JobTemplateSpec": "1 metadata meta.v1.ObjectMeta, 2 spec batch.v1.JobSpec",
    "batch.v1.PodFailurePolicy": "1 rules []batch.v1.PodFailurePolicyRule",
    "batch.v1.PodFailurePolicyOnExitCodesRequirement": "1 containerName *string, 2 operator *string, 3 values []int32",
    "batch.v1.PodFailurePolicyOnPodConditionsPattern": "1 type *string, 2 status *string",
    "batch.v1.PodFailurePolicyRule": "1 action *string, "
        "2 onExitCodes batch.v1.PodFailurePolicyOnExitCodesRequirement, "
        "3 onPodConditions []batch.v1.PodFailurePolicyOnPodConditionsPattern",
    "batch.v1.SuccessPolicy": "1 rules []batch.v1.SuccessPolicyRule",
    "batch.v1.SuccessPolicyRule": "1 succeededIndexes *string, 2 succeededCount *int32",
    "certificates.v1.CertificateSigningRequest": "1 metadata meta.v1.ObjectMeta, "
        "2 spec certificates.v1.CertificateSigningRequestSpec, "
        "3 status certificates.v1.CertificateSigningRequestStatus",
    "certificates.v1.CertificateSigningRequestCondition": "1 type string, 2 reason string, 3 message string, "
        "4 lastUpdateTime meta.v1.Time, 5 lastTransitionTime meta.v1.Time, 6 status string",
    "certificates.v1.CertificateSigningRequestSpec": "1 request *bytes, 2 username string, 3 uid string, "
        "4 groups []string, 5 usages []string, 7 signerName string, 8 expirationSeconds *int32",
    "certificates.v1.CertificateSigningRequestStatus": ""
        "1 conditions []certificates.v1.CertificateSigningRequestCondition, 2 certificate *bytes",
    "core.v1.AWSElasticBlockStoreVolumeSource": "1 volumeID *string, 2 fsType string, 3 partition int32, "
        "4 readOnly bool",
    "core.v1.Affinity": "1 nodeAffinity core.v1.NodeAffinity, 2 podAffinity core.v1.PodAffinity, "
        "3 podAntiAffinity core.v1.PodAntiAffinity",
    "core.v1.AppArmorProfile": "1 type *string, 2 localhostProfile *string",
    "core.v1.AzureDiskVolumeSource": "1 diskName *string, 2 diskURI *string, 3 cachingMode *string, "
        "4 fsType *string, 5 readOnly *bool, 6 kind *string",
    "core.v1.AzureFileVolumeSource": "1 secretName *string, 2 shareName *string, 3 readOnly bool",
    "core.v1.CSIVolumeSource": "1 driver *string, 2 readOnly *bool, 3 fsType *string, "
        "4 volumeAttributes map[string]string, 5 nodePublishSecretRef core.v1.LocalObjectReference",
    "core.v1.Capabilities": "1 add []string, 2 drop []string",
    "core.v1.CephFSVolumeSource": "1 monitors []string, 2 path string, 3 user string, 4 secretFile string, "
        "5 secretRef core.v1.LocalObjectReference, 6 readOnly bool",
    "core.v1.CinderVolumeSource": "1 volumeID *string, 2 fsType string, 3 readOnly bool, "
        "4 secretRef core.v1.LocalObjectReference",
    "core.v1.ClusterTrustBundleProjection": "1 name *string, 2 signerName *string, "
        "3 labelSelector meta.v1.LabelSelector, 4 path *string, 5 optional *bool",
    "core.v1.ConfigMap": "1 metadata meta.v1.ObjectMeta, 2 data map[string]string, 3 binaryData map[string]bytes",
    "core.v1.ConfigMapEnvSource": "1 ... core.v1.ConfigMapEnvSource/1, 2 optional *bool",
    "core.v1.ConfigMapEnvSource/1": "1 name string",
    "core.v1.ConfigMapKeySelector": "1 ... core.v1.ConfigMapKeySelector/1, 2 key *string, 3 optional *bool",
    "core.v1.ConfigMapKeySelector/1": "1 name string",
    "core.v1.ConfigMapProjection": "1 ... core.v1.ConfigMapProjection/1, 2 items []core.v1.KeyToPath, "
        "4 optional *bool",
    "core.v1.ConfigMapProjection/1": "1 name string",
    "core.v1.ConfigMapVolumeSource": "1 ... core.v1.ConfigMapVolumeSource/1, 2 items []core.v1.KeyToPath, "
        "3 defaultMode *int32, 4 optional *bool",
    "core.v1.ConfigMapVolumeSource/1": "1 name string",
    "core.v1.Container": "1 name *string, 2 image string, 3 command []string, 4 args []string, 5 workingDir string, "
        "6 ports []core.v1.ContainerPort, 7 env []core.v1.EnvVar, 8 resources core.v1.ResourceRequirements, "
        "9 volumeMounts []core.v1.VolumeMount, 10 livenessProbe core.v1.Probe, 11 readinessProbe core.v1.Probe, "
        "12 lifecycle core.v1.Lifecycle, 13 terminationMessagePath string, 14 imagePullPolicy string, "
        "15 securityContext core.v1.SecurityContext, 16 stdin bool, 17 stdinOnce bool, 18 tty bool, "
        "19 envFrom []core.v1.EnvFromSource, 20 terminationMessagePolicy string, "
        "21 volumeDevices []core.v1.VolumeDevice, 22 startupProbe core.v1.Probe, "
        "23 resizePolicy []core.v1.ContainerResizePolicy, 24 restartPolicy *string, "
        "25 restartPolicyRules []core.v1.ContainerRestartRule",
    "core.v1.ContainerPort": "1 name string, 2 hostPort int32, 3 containerPort *int32, 4 protocol string, "
        "5 hostIP string",
    "core.v1.ContainerResizePolicy": "1 resourceName *string, 2 restartPolicy *string",
    "core.v1.ContainerRestartRule": "1 action string, 2 exitCodes core.v1.ContainerRestartRuleOnExitCodes",
    "core.v1.ContainerRestartRuleOnExitCodes": "1 operator string, 2 values []int32",
    "core.v1.DownwardAPIProjection": "1 items []core.v1.DownwardAPIVolumeFile",
    "core.v1.DownwardAPIVolumeFile": "1 path *string, 2 fieldRef core.v1.ObjectFieldSelector, "
        "3 resourceFieldRef core.v1.ResourceFieldSelector, 4 mode *int32",
    "core.v1.DownwardAPIVolumeSource": "1 items []core.v1.DownwardAPIVolumeFile, 2 defaultMode *int32",
    "core.v1.EmptyDirVolumeSource": "1 medium string, 2 sizeLimit *resource.Quantity",
    "core.v1.EnvFromSource": "1 prefix string, 2 configMapRef core.v1.ConfigMapEnvSource, "
        "3 secretRef core.v1.SecretEnvSource",
    "core.v1.EnvVar": "1 name *string, 2 value string, 3 valueFrom core.v1.EnvVarSource",
    "core.v1.EnvVarSource": "1 fieldRef core.v1.ObjectFieldSelector, "
        "2 resourceFieldRef core.v1.ResourceFieldSelector, 3 configMapKeyRef core.v1.ConfigMapKeySelector, "
        "4 secretKeyRef core.v1.SecretKeySelector, 5 fileKeyRef core.v1.FileKeySelector",
    "core.v1.EphemeralContainer": "1 ... core.v1.EphemeralContainer/1, 2 targetContainerName string",
    "core.v1.EphemeralContainer/1": "1 name *string, 2 image string, 3 command []string, 4 args []string, "
        "5 workingDir string, 6 ports []core.v1.ContainerPort, 7 env []core.v1.EnvVar, "
        "8 resources core.v1.ResourceRequirements, 9 volumeMounts []core.v1.VolumeMount, "
        "10 livenessProbe core.v1.Probe, 11 readinessProbe core.v1.Probe, 12 lifecycle core.v1.Lifecycle, "
        "13 terminationMessagePath string, 14 imagePullPolicy string, 15 securityContext core.v1.SecurityContext, "
        "16 stdin bool, 17 stdinOnce bool, 18 tty bool, 19 envFrom []core.v1.EnvFromSource, "
        "20 terminationMessagePolicy string, 21 volumeDevices []core.v1.VolumeDevice, 22 startupProbe core.v1.Probe, "
        "23 resizePolicy []core.v1.ContainerResizePolicy, 24 restartPolicy *string, "
        "25 restartPolicyRules []core.v1.ContainerRestartRule",
    "core.v1.EphemeralVolumeSource": "1 volumeClaimTemplate core.v1.PersistentVolumeClaimTemplate",
    "core.v1.ExecAction": "1 command []string",
    "core.v1.FCVolumeSource": "1 targetWWNs []string, 2 lun *int32, 3 fsType string, 4 readOnly bool, "
        "5 wwids []string",
    "core.v1.FileKeySelector": "1 volumeName *string, 2 path *string, 3 key *string, 4 optional *bool",
    "core.v1.FlexVolumeSource": "1 driver *string, 2 fsType string, 3 secretRef core.v1.LocalObjectReference, "
        "4 readOnly bool, 5 options map[string]string",
    "core.v1.FlockerVolumeSource": "1 datasetName string, 2 datasetUUID string",
    "core.v1.GCEPersistentDiskVolumeSource": "1 pdName *string, 2 fsType string, 3 partition int32, 4 readOnly bool",
    "core.v1.GRPCAction": "1 port *int32, 2 service *string",
    "core.v1.GitRepoVolumeSource": "1 repository *string, 2 revision string, 3 directory string",
    "core.v1.GlusterfsVolumeSource": "1 endpoints *string, 2 path *string, 3 readOnly bool",
    "core.v1.HTTPGetAction": "1 path string, 2 port *intstr.IntOrString, 3 host string, 4 scheme string, "
        "5 httpHeaders []core.v1.HTTPHeader",
    "core.v1.HTTPHeader": "1 name *string, 2 value *string",
    "core.v1.HostAlias": "1 ip *string, 2 hostnames []string",
    "core.v1.HostPathVolumeSource": "1 path *string, 2 type *string",
    "core.v1.ISCSIVolumeSource": "1 targetPortal *string, 2 iqn *string, 3 lun *int32, 4 iscsiInterface string, "
        "5 fsType string, 6 readOnly bool, 7 portals []string, 8 chapAuthDiscovery bool, "
        "10 secretRef core.v1.LocalObjectReference, 11 chapAuthSession bool, 12 initiatorName *string",
    "core.v1.ImageVolumeSource": "1 reference string, 2 pullPolicy string",
    "core.v1.KeyToPath": "1 key *string, 2 path *string, 3 mode *int32",
    "core.v1.Lifecycle": "1 postStart core.v1.LifecycleHandler, 2 preStop core.v1.LifecycleHandler, "
        "3 stopSignal *string",
    "core.v1.LifecycleHandler": "1 exec core.v1.ExecAction, 2 httpGet core.v1.HTTPGetAction, "
        "3 tcpSocket core.v1.TCPSocketAction, 4 sleep core.v1.SleepAction",
    "core.v1.LocalObjectReference": "1 name string",
    "core.v1.NFSVolumeSource": "1 server *string, 2 path *string, 3 readOnly bool",
    "core.v1.Namespace": "1 metadata meta.v1.ObjectMeta",
    "core.v1.NodeAffinity": "1 requiredDuringSchedulingIgnoredDuringExecution core.v1.NodeSelector, "
        "2 preferredDuringSchedulingIgnoredDuringExecution []core.v1.PreferredSchedulingTerm",
    "core.v1.NodeSelector": "1 nodeSelectorTerms []core.v1.NodeSelectorTerm",
    "core.v1.NodeSelectorRequirement": "1 key *string, 2 operator *string, 3 values []string",
    "core.v1.NodeSelectorTerm": "1 matchExpressions []core.v1.NodeSelectorRequirement, "
        "2 matchFields []core.v1.NodeSelectorRequirement",
    "core.v1.ObjectFieldSelector": "1 apiVersion string, 2 fieldPath *string",
    "core.v1.PersistentVolumeClaimSpec": "1 accessModes []string, 2 resources core.v1.VolumeResourceRequirements, "
        "3 volumeName string, 4 selector meta.v1.LabelSelector, 5 storageClassName *string, 6 volumeMode *string, "
        "7 dataSource core.v1.TypedLocalObjectReference, 8 dataSourceRef core.v1.TypedObjectReference, "
        "9 volumeAttributesClassName *string",
    "core.v1.PersistentVolumeClaimTemplate": "1 metadata meta.v1.ObjectMeta, 2 spec core.v1.PersistentVolumeClaimSpec",
    "core.v1.PersistentVolumeClaimVolumeSource": "1 claimName *string, 2 readOnly bool",
    "core.v1.PhotonPersistentDiskVolumeSource": "1 pdID *string, 2 fsType string",
    "core.v1.Pod": "1 metadata meta.v1.ObjectMeta, 2 spec core.v1.PodSpec",
    "core.v1.PodAffinity": "1 requiredDuringSchedulingIgnoredDuringExecution []core.v1.PodAffinityTerm, "
        "2 preferredDuringSchedulingIgnoredDuringExecution []core.v1.WeightedPodAffinityTerm",
    "core.v1.PodAffinityTerm": "1 labelSelector meta.v1.LabelSelector, 2 namespaces []string, 3 topologyKey *string, "
        "4 namespaceSelector meta.v1.LabelSelector, 5 matchLabelKeys []string, 6 mismatchLabelKeys []string",
    "core.v1.PodAntiAffinity": "1 requiredDuringSchedulingIgnoredDuringExecution []core.v1.PodAffinityTerm, "
        "2 preferredDuringSchedulingIgnoredDuringExecution []core.v1.WeightedPodAffinityTerm",
    "core.v1.PodCertificateProjection": "1 signerName string, 2 keyType string, 3 maxExpirationSeconds *int32, "
        "4 credentialBundlePath string, 5 keyPath string, 6 certificateChainPath string, "
        "7 userAnnotations map[string]string",
    "core.v1.PodDNSConfig": "1 nameservers []string, 2 searches []string, 3 options []core.v1.PodDNSConfigOption",
    "core.v1.PodDNSConfigOption": "1 name string, 2 value *string",
    "core.v1.PodOS": "1 name *string",
    "core.v1.PodReadinessGate": "1 conditionType *string",
    "core.v1.PodResourceClaim": "1 name *string, 3 resourceClaimName *string, 4 resourceClaimTemplateName *string",
    "core.v1.PodSchedulingGate": "1 name *string",
    "core.v1.PodSecurityContext": "1 seLinuxOptions core.v1.SELinuxOptions, 2 runAsUser *int64, "
        "3 runAsNonRoot *bool, 4 supplementalGroups []int64, 5 fsGroup *int64, 6 runAsGroup *int64, "
        "7 sysctls []core.v1.Sysctl, 8 windowsOptions core.v1.WindowsSecurityContextOptions, "
        "9 fsGroupChangePolicy *string, 10 seccompProfile core.v1.SeccompProfile, "
        "11 appArmorProfile core.v1.AppArmorProfile, 12 supplementalGroupsPolicy *string, "
        "13 seLinuxChangePolicy *string",
    "core.v1.PodSpec": "1 volumes []core.v1.Volume, 2 containers []core.v1.Container, 3 restartPolicy string, "
        "4 terminationGracePeriodSeconds *int64, 5 activeDeadlineSeconds *int64, 6 dnsPolicy string, "
        "7 nodeSelector map[string]string, 8 serviceAccountName string, 9 serviceAccount string, 10 nodeName string, "
        "11 hostNetwork bool, 12 hostPID bool, 13 hostIPC bool, 14 securityContext core.v1.PodSecurityContext, "
        "15 imagePullSecrets []core.v1.LocalObjectReference, 16 hostname string, 17 subdomain string, "
        "18 affinity core.v1.Affinity, 19 schedulerName string, 20 initContainers []core.v1.Container, "
        "21 automountServiceAccountToken *bool, 22 tolerations []core.v1.Toleration, "
        "23 hostAliases []core.v1.HostAlias, 24 priorityClassName string, 25 priority *int32, "
        "26 dnsConfig core.v1.PodDNSConfig, 27 shareProcessNamespace *bool, "
        "28 readinessGates []core.v1.PodReadinessGate, 29 runtimeClassName *string, 30 enableServiceLinks *bool, "
        "31 preemptionPolicy *string, 32 overhead map[string]resource.Quantity, "
        "33 topologySpreadConstraints []core.v1.TopologySpreadConstraint, "
        "34 ephemeralContainers []core.v1.EphemeralContainer, 35 setHostnameAsFQDN *bool, 36 os core.v1.PodOS, "
        "37 hostUsers *bool, 38 schedulingGates []core.v1.PodSchedulingGate, "
        "39 resourceClaims []core.v1.PodResourceClaim, 40 resources core.v1.ResourceRequirements, "
        "41 hostnameOverride *string, 42 workloadRef core.v1.WorkloadReference",
    "core.v1.PodTemplateSpec": "1 metadata meta.v1.ObjectMeta, 2 spec core.v1.PodSpec",
    "core.v1.PortworxVolumeSource": "1 volumeID *string, 2 fsType string, 3 readOnly bool",
    "core.v1.PreferredSchedulingTerm": "1 weight *int32, 2 preference core.v1.NodeSelectorTerm",
    "core.v1.Probe": "1 ... core.v1.Probe/1, 2 initialDelaySeconds int32, 3 timeoutSeconds int32, "
        "4 periodSeconds int32, 5 successThreshold int32, 6 failureThreshold int32, "
        "7 terminationGracePeriodSeconds *int64",
    "core.v1.Probe/1": "1 exec core.v1.ExecAction, 2 httpGet core.v1.HTTPGetAction, "
        "3 tcpSocket core.v1.TCPSocketAction, 4 grpc core.v1.GRPCAction",
    "core.v1.ProjectedVolumeSource": "1 sources []core.v1.VolumeProjection, 2 defaultMode *int32",
    "core.v1.QuobyteVolumeSource": "1 registry *string, 2 volume *string, 3 readOnly bool, 4 user string, "
        "5 group string, 6 tenant string",
    "core.v1.RBDVolumeSource": "1 monitors []string, 2 image *string, 3 fsType string, 4 pool string, 5 user string, "
        "6 keyring string, 7 secretRef core.v1.LocalObjectReference, 8 readOnly bool",
    "core.v1.ResourceClaim": "1 name *string, 2 request string",
    "core.v1.ResourceFieldSelector": "1 containerName string, 2 resource *string, 3 divisor *resource.Quantity",
    "core.v1.ResourceQuota": "1 metadata meta.v1.ObjectMeta, 2 spec core.v1.ResourceQuotaSpec",
    "core.v1.ResourceQuotaSpec": "1 hard map[string]resource.Quantity, 2 scopes []string",
    "core.v1.ResourceRequirements": "1 limits map[string]resource.Quantity, 2 requests map[string]resource.Quantity, "
        "3 claims []core.v1.ResourceClaim",
    "core.v1.SELinuxOptions": "1 user string, 2 role string, 3 type string, 4 level string",
    "core.v1.ScaleIOVolumeSource": "1 gateway *string, 2 system *string, 3 secretRef core.v1.LocalObjectReference, "
        "4 sslEnabled bool, 5 protectionDomain string, 6 storagePool string, 7 storageMode string, "
        "8 volumeName string, 9 fsType string, 10 readOnly bool",
    "core.v1.SeccompProfile": "1 type *string, 2 localhostProfile *string",
    "core.v1.Secret": "1 metadata meta.v1.ObjectMeta, 2 data map[string]bytes, 3 type string",
    "core.v1.SecretEnvSource": "1 ... core.v1.SecretEnvSource/1, 2 optional *bool",
    "core.v1.SecretEnvSource/1": "1 name string",
    "core.v1.SecretKeySelector": "1 ... core.v1.SecretKeySelector/1, 2 key *string, 3 optional *bool",
    "core.v1.SecretKeySelector/1": "1 name string",
    "core.v1.SecretProjection": "1 ... core.v1.SecretProjection/1, 2 items []core.v1.KeyToPath, 4 optional *bool",
    "core.v1.SecretProjection/1": "1 name string",
    "core.v1.SecretVolumeSource": "1 secretName string, 2 items []core.v1.KeyToPath, 3 defaultMode *int32, "
        "4 optional *bool",
    "core.v1.SecurityContext": "1 capabilities core.v1.Capabilities, 2 privileged *bool, "
        "3 seLinuxOptions core.v1.SELinuxOptions, 4 runAsUser *int64, 5 runAsNonRoot *bool, "
        "6 readOnlyRootFilesystem *bool, 7 allowPrivilegeEscalation *bool, 8 runAsGroup *int64, 9 procMount *string, "
        "10 windowsOptions core.v1.WindowsSecurityContextOptions, 11 seccompProfile core.v1.SeccompProfile, "
        "12 appArmorProfile core.v1.AppArmorProfile",
    "core.v1.Service": "1 metadata meta.v1.ObjectMeta, 2 spec core.v1.ServiceSpec",
    "core.v1.ServiceAccount": "1 metadata meta.v1.ObjectMeta",
    "core.v1.ServiceAccountTokenProjection": "1 audience string, 2 expirationSeconds *int64, 3 path *string",
    "core.v1.ServicePort": "1 name *string, 2 protocol *string, 3 port *int32, 4 targetPort *intstr.IntOrString, "
        "5 nodePort int32",
    "core.v1.ServiceSpec": "1 ports []core.v1.ServicePort, 2 selector map[string]string, 3 clusterIP string, "
        "4 type *string, 10 externalName string",
    "core.v1.SleepAction": "1 seconds *int64",
    "core.v1.StorageOSVolumeSource": "1 volumeName string, 2 volumeNamespace string, 3 fsType string, "
        "4 readOnly bool, 5 secretRef core.v1.LocalObjectReference",
    "core.v1.Sysctl": "1 name *string, 2 value *string",
    "core.v1.TCPSocketAction": "1 port *intstr.IntOrString, 2 host string",
    "core.v1.Toleration": "1 key string, 2 operator string, 3 value string, 4 effect string, "
        "5 tolerationSeconds *int64",
    "core.v1.TopologySpreadConstraint": "1 maxSkew *int32, 2 topologyKey *string, 3 whenUnsatisfiable *string, "
        "4 labelSelector meta.v1.LabelSelector, 5 minDomains *int32, 6 nodeAffinityPolicy *string, "
        "7 nodeTaintsPolicy *string, 8 matchLabelKeys []string",
    "core.v1.TypedLocalObjectReference": "1 apiGroup *string, 2 kind *string, 3 name *string",
    "core.v1.TypedObjectReference": "1 apiGroup *string, 2 kind *string, 3 name *string, 4 namespace *string",
    "core.v1.Volume": "1 name *string, 2 ... core.v1.Volume/2",
    "core.v1.Volume/2": "1 hostPath core.v1.HostPathVolumeSource, 2 emptyDir core.v1.EmptyDirVolumeSource, "
        "3 gcePersistentDisk core.v1.GCEPersistentDiskVolumeSource, "
        "4 awsElasticBlockStore core.v1.AWSElasticBlockStoreVolumeSource, 5 gitRepo core.v1.GitRepoVolumeSource, "
        "6 secret core.v1.SecretVolumeSource, 7 nfs core.v1.NFSVolumeSource, 8 iscsi core.v1.ISCSIVolumeSource, "
        "9 glusterfs core.v1.GlusterfsVolumeSource, "
        "10 persistentVolumeClaim core.v1.PersistentVolumeClaimVolumeSource, 11 rbd core.v1.RBDVolumeSource, "
        "12 flexVolume core.v1.FlexVolumeSource, 13 cinder core.v1.CinderVolumeSource, "
        "14 cephfs core.v1.CephFSVolumeSource, 15 flocker core.v1.FlockerVolumeSource, "
        "16 downwardAPI core.v1.DownwardAPIVolumeSource, 17 fc core.v1.FCVolumeSource, "
        "18 azureFile core.v1.AzureFileVolumeSource, 19 configMap core.v1.ConfigMapVolumeSource, "
        "20 vsphereVolume core.v1.VsphereVirtualDiskVolumeSource, 21 quobyte core.v1.QuobyteVolumeSource, "
        "22 azureDisk core.v1.AzureDiskVolumeSource, "
        "23 photonPersistentDisk core.v1.PhotonPersistentDiskVolumeSource, "
        "24 portworxVolume core.v1.PortworxVolumeSource, 25 scaleIO core.v1.ScaleIOVolumeSource, "
        "26 projected core.v1.ProjectedVolumeSource, 27 storageos core.v1.StorageOSVolumeSource, "
        "28 csi core.v1.CSIVolumeSource, 29 ephemeral core.v1.EphemeralVolumeSource, "
        "30 image core.v1.ImageVolumeSource",
    "core.v1.VolumeDevice": "1 name *string, 2 devicePath *string",
    "core.v1.VolumeMount": "1 name *string, 2 readOnly bool, 3 mountPath *string, 4 subPath string, "
        "5 mountPropagation *string, 6 subPathExpr string, 7 recursiveReadOnly *string",
    "core.v1.VolumeProjection": "1 secret core.v1.SecretProjection, 2 downwardAPI core.v1.DownwardAPIProjection, "
        "3 configMap core.v1.ConfigMapProjection, 4 serviceAccountToken core.v1.ServiceAccountTokenProjection, "
        "5 clusterTrustBundle core.v1.ClusterTrustBundleProjection, 6 podCertificate core.v1.PodCertificateProjection",
    "core.v1.VolumeResourceRequirements": "1 limits map[string]resource.Quantity, "
        "2 requests map[string]resource.Quantity",
    "core.v1.VsphereVirtualDiskVolumeSource": "1 volumePath *string, 2 fsType string, 3 storagePolicyName string, "
        "4 storagePolicyID string",
    "core.v1.WeightedPodAffinityTerm": "1 weight *int32, 2 podAffinityTerm core.v1.PodAffinityTerm",
    "core.v1.WindowsSecurityContextOptions": "1 gmsaCredentialSpecName *string, 2 gmsaCredentialSpec *string, "
        "3 runAsUserName *string, 4 hostProcess *bool",
    "core.v1.WorkloadReference": "1 name *string, 2 podGroup *string, 3 podGroupReplicaKey string",
    "intstr.IntOrString": "1 type *int64, 2 intVal *int32, 3 strVal *string",
    "meta.v1.DeleteOptions": "1 gracePeriodSeconds *int64, 5 dryRun []string",
    "meta.v1.FieldsV1": "1 raw *bytes",
    "meta.v1.LabelSelector": "1 matchLabels map[string]string, 2 matchExpressions []meta.v1.LabelSelectorRequirement",
    "meta.v1.LabelSelectorRequirement": "1 key *string, 2 operator *string, 3 values []string",
    "meta.v1.ManagedFieldsEntry": "1 manager string, 2 operation string, 3 apiVersion string, 4 time *meta.v1.Time, "
        "6 fieldsType string, 7 fieldsV1 *meta.v1.FieldsV1, 8 subresource string",
    "meta.v1.ObjectMeta": "1 name string, 2 generateName string, 3 namespace string, 4 selfLink string, "
        "5 uid string, 6 resourceVersion string, 7 generation int64, 8 creationTimestamp meta.v1.Time, "
        "9 deletionTimestamp *meta.v1.Time, 10 deletionGracePeriodSeconds *int64, 11 labels map[string]string, "
        "12 annotations map[string]string, 13 ownerReferences []meta.v1.OwnerReference, 14 finalizers []string, "
        "17 managedFields []meta.v1.ManagedFieldsEntry",
    "meta.v1.OwnerReference": "1 kind *string, 3 name *string, 4 uid *string, 5 apiVersion *string, "
        "6 controller *bool, 7 blockOwnerDeletion *bool",
    "meta.v1.Time": "1 seconds *int64",
    "networking.v1.HTTPIngressPath": "1 ... networking.v1.HTTPIngressPath/1",
    "networking.v1.HTTPIngressPath/1": "1 path *string, 2 backend networking.v1.IngressBackend, 3 pathType *string",
    "networking.v1.HTTPIngressRuleValue": "1 paths []networking.v1.HTTPIngressPath",
    "networking.v1.Ingress": "1 metadata meta.v1.ObjectMeta, 2 spec networking.v1.IngressSpec",
    "networking.v1.IngressBackend": "4 service networking.v1.IngressServiceBackend",
    "networking.v1.IngressRule": "1 host *string, 2 http networking.v1.HTTPIngressRuleValue",
    "networking.v1.IngressServiceBackend": "1 name *string, 2 port networking.v1.ServiceBackendPort",
    "networking.v1.IngressSpec": "1 defaultBackend networking.v1.IngressBackend, 2 tls []networking.v1.IngressTLS, "
        "3 rules []networking.v1.IngressRule, 4 ingressClassName *string",
    "networking.v1.IngressTLS": "1 hosts []string, 2 secretName *string",
    "networking.v1.ServiceBackendPort": "1 name string, 2 number int32",
    "policy.v1.PodDisruptionBudget": "1 metadata meta.v1.ObjectMeta, 2 spec policy.v1.PodDisruptionBudgetSpec",
    "policy.v1.PodDisruptionBudgetSpec": "1 minAvailable *intstr.IntOrString, 2 selector meta.v1.LabelSelector, "
        "3 maxUnavailable *intstr.IntOrString",
    "rbac.v1.AggregationRule": "1 clusterRoleSelectors []meta.v1.LabelSelector",
    "rbac.v1.ClusterRole": "1 metadata meta.v1.ObjectMeta, 2 rules []rbac.v1.PolicyRule, "
        "3 aggregationRule rbac.v1.AggregationRule",
    "rbac.v1.ClusterRoleBinding": "1 metadata meta.v1.ObjectMeta, 2 subjects []rbac.v1.Subject, "
        "3 roleRef rbac.v1.RoleRef",
    "rbac.v1.PolicyRule": "1 verbs []string, 2 apiGroups []string, 3 resources []string, 4 resourceNames []string, "
        "5 nonResourceURLs []string",
    "rbac.v1.Role": "1 metadata meta.v1.ObjectMeta, 2 rules []rbac.v1.PolicyRule",
    "rbac.v1.RoleBinding": "1 metadata meta.v1.ObjectMeta, 2 subjects []rbac.v1.Subject, 3 roleRef rbac.v1.RoleRef",
    "rbac.v1.RoleRef": "1 apiGroup *string, 2 kind *string, 3 name *string",
    "rbac.v1.Subject": "1 kind *string, 2 apiGroup string, 3 name *string, 4 namespace string",
    "resource.Quantity": "1 string *string",
    "scheduling.v1.PriorityClass": "1 metadata meta.v1.ObjectMeta, 2 value *int32, 3 globalDefault bool, "
        "4 description string, 5 preemptionPolicy *string",
    # TABLE-MESSAGES-END
}

SHARED_KINDS = frozenset({"DeleteOptions"})  # metav1 kinds that every group version has (observed in v1)
INLINE = "..."  # the JSON name of a field that holds an embedded struct (`core.v1.Volume/2`: VolumeSource)
SCALARS = frozenset({"string", "bytes", "bool", "int32", "int64", "double"})
# Messages with a JSON form of their own; their fields are in the table too.
SPECIAL = frozenset({"meta.v1.Time", "meta.v1.MicroTime", "resource.Quantity", "intstr.IntOrString",
                     "meta.v1.FieldsV1", "runtime.RawExtension"})


@dataclass(frozen=True)
class Field:
    """One field of a message: its JSON name and what its wire value is."""

    name: str
    type: str  # a scalar or a message name
    repeated: bool = False
    map: bool = False
    keep_zero: bool = False

    @property
    def scalar(self) -> bool:
        return self.type in SCALARS


def parse_type(spec: str) -> tuple[str, bool, bool, bool]:
    """`*int32` / `[]core.v1.Container` / `map[string]bytes` -> (type, repeated, map, keep_zero)."""
    keep_zero = spec.startswith("*")
    spec = spec.removeprefix("*")
    if spec.startswith("[]"):
        return spec[2:], True, False, keep_zero
    if spec.startswith("map[string]"):
        return spec[len("map[string]") :], False, True, keep_zero
    return spec, False, False, keep_zero


@functools.cache
def messages() -> dict[str, dict[int, Field]]:
    """The table, parsed: message name -> field number -> Field."""
    table: dict[str, dict[int, Field]] = {}
    for message, text in _TABLE.items():
        entries: dict[int, Field] = {}
        for item in text.split(","):
            number, name, spec = item.split()
            kind, repeated, is_map, keep_zero = parse_type(spec)
            entries[int(number)] = Field(name, kind, repeated, is_map, keep_zero)
        table[message] = entries
    return table


# ----------------------------------------------------------------------------------------------------------
# Decoding


def decode(body: bytes) -> Obj:
    """A protobuf request body as the dict its JSON form would have decoded to.

    UnsupportedMediaType for kinds and fields outside the table, BadRequest for malformed bodies.
    """
    if not body.startswith(MAGIC):
        raise BadRequest("the protobuf body does not start with the k8s\\x00 prefix")
    envelope = {number: value for number, _, value in _typed(fields(body[len(MAGIC) :]), "runtime.Unknown")}
    type_meta = {number: value for number, _, value in _typed(fields(_bytes(envelope.get(1, b""))), "TypeMeta")}
    api_version, kind = _text(type_meta.get(1, b"")), _text(type_meta.get(2, b""))
    encoding = _text(envelope.get(3, b""))
    if encoding:
        raise UnsupportedMediaType(f'protobuf bodies with contentEncoding "{encoding}" are not supported')
    message = KINDS.get((api_version, kind))
    if message is None and kind in SHARED_KINDS and "/" in api_version:
        message = KINDS.get(("v1", kind))  # one metav1 type, registered in every group version
    if message is None:
        raise UnsupportedMediaType(
            f"protobuf bodies of {api_version or '<no apiVersion>'} {kind or '<no kind>'} are not supported: "
            f"send application/json"
        )
    obj = _message(_bytes(envelope.get(2, b"")), message, kind, kind, 0)
    return {"kind": kind, "apiVersion": api_version, **obj}


def _typed(triples: list[tuple[int, int, int | bytes]], what: str) -> list[tuple[int, int, int | bytes]]:
    """The envelope's fields: typeMeta/raw/contentEncoding/contentType are all length-delimited."""
    for number, wire, _ in triples:
        if wire != BYTES:
            raise BadRequest(f"the protobuf body is malformed: {what} field {number} has wire type {wire}")
    return triples


def _bytes(value: int | bytes) -> bytes:
    assert isinstance(value, bytes)  # callers pass only length-delimited values
    return value


def _text(value: int | bytes, where: str = "the envelope") -> str:
    try:
        return _bytes(value).decode()
    except UnicodeDecodeError as err:
        raise BadRequest(f"the protobuf body is malformed: {where} holds a string that is not UTF-8") from err


def _message(buf: bytes, message: str, kind: str, path: str, depth: int) -> Obj:
    if depth > MAX_DEPTH:
        raise BadRequest(f"the protobuf body is nested too deeply: more than {MAX_DEPTH} levels")
    table = messages().get(message, {})  # a kind sent with no field set (whoami) has no entry
    obj: Obj = {}
    for number, wire, value in fields(buf):
        field = table.get(number)
        if field is None:
            if not _zero_value(value):
                raise UnsupportedMediaType(
                    f"the protobuf body of {kind} has field {number} of {message} (at {path}), which this server "
                    f"cannot read: send application/json"
                )
            continue
        if field.name == INLINE:  # a Go embedded struct: its own message on the wire, flattened in JSON
            obj.update(_message(_need(value, wire, BYTES, path), field.type, kind, path, depth + 1))
            continue
        where = f"{path}.{field.name}"
        if field.map:
            key, item = _map_entry(_need(value, wire, BYTES, where), field, kind, where, depth)
            obj.setdefault(field.name, {})[key] = item
        elif field.repeated:
            if field.scalar and wire == BYTES and field.type not in ("string", "bytes"):
                obj.setdefault(field.name, []).extend(_packed(_bytes(value), field.type, where))
            else:
                obj.setdefault(field.name, []).append(_value(value, wire, field, kind, where, depth))
        else:
            item = _value(value, wire, field, kind, where, depth)
            if item is _ZERO:
                obj.pop(field.name, None)
            else:
                obj[field.name] = item
    return obj


_ZERO: Any = object()  # a zero value that JSON would omit


def _zero_value(value: int | bytes, depth: int = 0) -> bool:
    """0, empty, or a message of zero values: what Go writes for an unset non-pointer field (a struct
    such as an unread `status` holds zero strings and numbers)."""
    if value in (0, b""):
        return True
    if not isinstance(value, bytes) or depth > MAX_DEPTH:
        return False
    try:
        return all(_zero_value(inner, depth + 1) for _, _, inner in fields(value))
    except BadRequest:
        return False  # not a message: a non-empty string


def _map_entry(buf: bytes, field: Field, kind: str, where: str, depth: int) -> tuple[str, Any]:
    key, item = "", _ZERO
    for number, wire, value in fields(buf):
        if number == 1:
            key = _text(_need(value, wire, BYTES, where), where)
        elif number == 2:
            item = _value(value, wire, field, kind, f"{where}[{key}]", depth, in_map=True)
        elif value not in (0, b""):
            raise BadRequest(f"the protobuf body is malformed: a map entry of {where} has field {number}")
    if item is _ZERO:  # an entry without a value holds the zero value
        item = _zero(field.type)
    return key, item


def _zero(kind: str) -> Any:
    return {"string": "", "bytes": "", "bool": False, "double": 0.0}.get(
        kind, 0 if kind in ("int32", "int64") else (None if kind in SPECIAL else {})
    )


def _need(value: int | bytes, wire: int, expected: int, where: str) -> Any:
    if wire != expected:
        raise BadRequest(f"the protobuf body is malformed: {where} has wire type {wire}, expected {expected}")
    return value


def _value(value: int | bytes, wire: int, field: Field, kind: str, where: str, depth: int, *,
           in_map: bool = False) -> Any:
    keep = field.keep_zero or field.repeated or in_map  # list items and map values are never omitted
    if field.scalar:
        item = _scalar(value, wire, field.type, where)
        return item if keep or item not in (0, "", False) else _ZERO
    buf = _need(value, wire, BYTES, where)
    if field.type in SPECIAL:
        return _special(buf, field.type, keep, kind, where, depth)
    return _message(buf, field.type, kind, where, depth + 1)


def _scalar(value: int | bytes, wire: int, kind: str, where: str) -> Any:
    if kind == "string":
        return _text(_need(value, wire, BYTES, where), where)
    if kind == "bytes":
        return base64.b64encode(_need(value, wire, BYTES, where)).decode()
    if kind == "double":
        return _finite(struct.unpack("<d", _need(value, wire, FIXED64, where))[0], where)
    number = _need(value, wire, VARINT, where)
    if kind == "bool":
        return number != 0
    signed = number - (1 << 64) if number >= 1 << 63 else number  # negative ints are 10-byte two's complement
    if kind == "int32" and not -(1 << 31) <= signed < 1 << 31:
        raise BadRequest(f"the protobuf body is malformed: {where} is out of the int32 range")
    return signed


def _finite(value: float, where: str) -> float:
    """Inf and NaN have no JSON form: the object could be neither stored nor served."""
    if not math.isfinite(value):
        raise BadRequest(f"the protobuf body is malformed: {where} is {go_float(value)}, which JSON can't hold")
    return value


def _packed(buf: bytes, kind: str, where: str) -> list[Any]:
    if kind == "double":
        if len(buf) % 8:
            raise BadRequest(f"the protobuf body is malformed: packed doubles of {where}")
        return [_finite(value, where) for (value,) in struct.iter_unpack("<d", buf)]
    out, i = [], 0
    while i < len(buf):
        number, i = _varint(buf, i)
        out.append(_scalar(number, VARINT, kind, where))
    return out


def _special(buf: bytes, message: str, keep: bool, kind: str, where: str, depth: int) -> Any:
    """Time, Quantity, IntOrString, FieldsV1, RawExtension: messages whose JSON is a scalar or raw JSON."""
    parts = _message(buf, message, kind, where, depth + 1)
    if message in ("meta.v1.Time", "meta.v1.MicroTime"):
        seconds, nanos = parts.get("seconds", 0), parts.get("nanos", 0)
        if not seconds and not nanos:
            return _ZERO  # Go's zero time: JSON null
        return _timestamp(seconds, nanos, micro=message == "meta.v1.MicroTime", where=where)
    if message == "resource.Quantity":
        quantity = parts.get("string", "")
        return quantity if quantity or keep else _ZERO
    if message == "intstr.IntOrString":
        if parts.get("type", 0) == 1:
            return parts.get("strVal", "")
        number = parts.get("intVal", 0)
        return number if number or keep else _ZERO
    raw = base64.b64decode(parts.get("raw", ""))  # FieldsV1, RawExtension: raw JSON bytes
    if not raw:
        return _ZERO if not keep else {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise BadRequest(f"the protobuf body is malformed: {where} is not JSON: {err}") from err


def _timestamp(seconds: int, nanos: int, *, micro: bool, where: str) -> str:
    try:
        moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise BadRequest(f"the protobuf body is malformed: {where} is not a valid time") from err
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if micro:
        text += f".{nanos // 1000:06d}"
    return text + "Z"
