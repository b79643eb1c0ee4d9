"""The table columns `kubectl get` shows for each built-in kind, with kube's cell logic.

After kube 1.35 `pkg/printers/internalversion/printers.go`. kube prints the internal (defaulted, converted)
object; here the stored v1 object is read directly, with the conversions that matter applied on the fly
(`status.podIP` when `podIPs` is empty, `spec.clusterIP` when `clusterIPs` is, events.k8s.io Events read as
core Events since both are served from one storage). Quantities print as stored (kube canonicalises them).

Column descriptions are the field docs kube copies from SwaggerDoc(), taken from the v1 OpenAPI text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from apiserver.tables import (
    AGE_COLUMN,
    NAME_COLUMN,
    NAME_DOC,
    Column,
    RowConditions,
    age,
    created_at_columns,
    default_columns,
    human_duration,
    parse_time,
)
from machinery import BadRequest, label_selector_from_dict

Obj = dict[str, Any]


# --- reading plain dicts ------------------------------------------------------------------------------------------


def _obj(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dig(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _quantity(value: Any) -> str:
    """A Quantity as stored; a missing *Quantity prints "<nil>" in Go."""
    if value is None:
        return "<nil>"
    return value if isinstance(value, str) else str(value)


def _spec(obj: Obj) -> Obj:
    return _obj(obj.get("spec"))


def _status(obj: Obj) -> Obj:
    return _obj(obj.get("status"))


def _meta(obj: Obj) -> Obj:
    return _obj(obj.get("metadata"))


def format_labels(labels: Any) -> str:
    """labels.FormatLabels: `k=v` sorted by key, or "<none>"."""
    text = ",".join(f"{k}={v}" for k, v in sorted(_obj(labels).items()))
    return text or "<none>"


def _selector_string(selector: Any) -> str | None:
    """metav1.LabelSelectorAsSelector(selector).String(), None when the selector is invalid."""
    try:
        return str(label_selector_from_dict(selector if isinstance(selector, dict) else None))
    except BadRequest:
        return None


def format_label_selector(selector: Any) -> str:
    """metav1.FormatLabelSelector: the selector string, "<none>" when empty, "<error>" when invalid."""
    text = _selector_string(selector)
    return "<error>" if text is None else (text or "<none>")


def _containers(template_spec: Any) -> tuple[str, str]:
    """layoutContainerCells: container names and images, comma-separated."""
    containers = [_obj(c) for c in _list(_dig(template_spec, "containers"))]
    return ",".join(_str(c.get("name")) for c in containers), ",".join(_str(c.get("image")) for c in containers)


def _has_condition(conditions: Any, kind: str) -> bool:
    """hasJobCondition: the first condition of that type decides."""
    for cond in _list(conditions):
        if _obj(cond).get("type") == kind:
            return _obj(cond).get("status") == "True"
    return False


def _col(name: str, kind: str, value: Callable[[Obj, datetime], Any], description: str, *, priority: int = 0,
         format: str = "") -> Column:
    return Column(name, kind, value, format=format, description=description, priority=priority)


def _static(value: Callable[[Obj], Any]) -> Callable[[Obj, datetime], Any]:
    return lambda obj, _now: value(obj)


# --- field docs (SwaggerDoc) --------------------------------------------------------------------------------------

CONTAINERS_DOC = "Names of each container in the template."
IMAGES_DOC = "Images referenced by each container in the template."
_DOCS = {
    "podIP": "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    "nodeName": "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for "
                "scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this "
                "node becomes responsible for the lifecycle of this pod. This field should not be used to express "
                "a desire for the pod to be scheduled on a specific node. "
                "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
    "nominatedNodeName": "nominatedNodeName is set only when this pod preempts other pods on the node, but it "
                         "cannot be scheduled right away as preemption victims receive their graceful termination "
                         "periods. This field does not guarantee that the pod will be scheduled on this node. "
                         "Scheduler may decide to place the pod elsewhere if other nodes become available sooner. "
                         "Scheduler may also decide to give the resources on this node to a higher priority pod "
                         "that is created after preemption. As a result, this field may be different than "
                         "PodSpec.nodeName when the pod is scheduled.",
    "readinessGates": "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when "
                      "all its containers are ready AND all conditions specified in the readiness gates have status "
                      'equal to "True" More info: '
                      "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
    "rs.replicas": "Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero "
                   "and unspecified. Defaults to 1. More info: "
                   "https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
    "rs.status.replicas": "Replicas is the most recently observed number of non-terminating pods. More info: "
                          "https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
    "rs.readyReplicas": "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
    "rs.selector": "Selector is a label query over pods that should match the replica count. If the selector is "
                   "empty, it is defaulted to the labels present on the pod template. Label keys and values that "
                   "must match in order to be controlled by this replica set. More info: "
                   "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    "desiredNumberScheduled": "The total number of nodes that should be running the daemon pod (including nodes "
                              "correctly running the daemon pod). More info: "
                              "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
    "currentNumberScheduled": "The number of nodes that are running at least 1 daemon pod and are supposed to run "
                              "the daemon pod. More info: "
                              "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
    "numberReady": "numberReady is the number of nodes that should be running the daemon pod and have one or more "
                   "of the daemon pod running with a Ready Condition.",
    "updatedNumberScheduled": "The total number of nodes that are running updated daemon pod",
    "numberAvailable": "The number of nodes that should be running the daemon pod and have one or more of the "
                       "daemon pod running and available (ready for at least spec.minReadySeconds)",
    "nodeSelector": "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which "
                    "must match a node's labels for the pod to be scheduled on that node. More info: "
                    "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
    "ds.selector": "A label query over pods that are managed by the daemon set. Must match in order to be "
                   "controlled. If empty, defaulted to labels on Pod template. More info: "
                   "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    "succeeded": "The number of pods which reached phase Succeeded. The value increases monotonically for a given "
                 "spec. However, it may decrease in reaction to scale down of elastic indexed jobs.",
    "job.selector": "A label query over pods that should match the pod count. Normally, the system sets this field "
                    "for you. More info: "
                    "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    "schedule": "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
    "timeZone": "The time zone name for the given schedule, see "
                "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default "
                "to the time zone of the kube-controller-manager process. The set of valid time zone names and the "
                "time zone offset is loaded from the system-wide time zone database by the API server during "
                "CronJob validation and the controller manager during execution. If no system-wide time zone "
                "database can be found a bundled version of the database is used instead. If the time zone name "
                "becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the "
                "controller will stop creating new new Jobs and will create a system event with the reason "
                "UnknownTimeZone. More information can be found in "
                "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones",
    "suspend": "This flag tells the controller to suspend subsequent executions, it does not apply to already "
               "started executions.  Defaults to false.",
    "active": "A list of pointers to currently running jobs.",
    "lastScheduleTime": "Information when was the last time the job was successfully scheduled.",
    "svc.type": 'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, '
                'ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for '
                "load-balancing to endpoints. Endpoints are determined by the selector or if that is not "
                "specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "
                '"None", no virtual IP is allocated and the endpoints are published as a set of endpoints rather '
                'than a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which routes '
                'to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external '
                "load-balancer (if supported in the current cloud) which routes to the same endpoints as the "
                'clusterIP. "ExternalName" aliases this service to the specified externalName. Several other '
                "fields do not apply to ExternalName services. More info: "
                "https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types",
    "clusterIP": "clusterIP is the IP address of the service and is usually assigned randomly. If an address is "
                 "specified manually, is in-range (as per system configuration), and is not in use, it will be "
                 "allocated to the service; otherwise creation of the service will fail. This field may not be "
                 "changed through updates unless the type field is also being changed to ExternalName (which "
                 "requires this field to be blank) or the type field is being changed from ExternalName (in which "
                 'case this field may optionally be specified, as describe above).  Valid values are "None", empty '
                 'string (""), or a valid IP address. Setting this to "None" makes a "headless service" (no virtual '
                 "IP), which is useful when direct endpoint connections are preferred and proxying is not "
                 "required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified "
                 "when creating a Service of type ExternalName, creation will fail. This field will be wiped when "
                 "updating a Service to type ExternalName. More info: "
                 "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    "externalIPs": "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic "
                   "for this service.  These IPs are not managed by Kubernetes.  The user is responsible for "
                   "ensuring that traffic arrives at a node with this IP.  A common example is external "
                   "load-balancers that are not part of the Kubernetes system.",
    "ports": "The list of ports that are exposed by this service. More info: "
             "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    "svc.selector": "Route service traffic to pods with label keys and values matching this selector. If empty or "
                    "not present, the service is assumed to have an external process managing its endpoints, which "
                    "Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. "
                    "Ignored if type is ExternalName. More info: "
                    "https://kubernetes.io/docs/concepts/services-networking/service/",
    "subsets": "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according "
               "to the IPs they share. A single address with multiple ports, some of which are ready and some of "
               "which are not (because they come from different containers) will result in the address being "
               "displayed in different subsets for the different ports. No address will appear in both Addresses "
               "and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.",
    "kubeletVersion": "Kubelet Version reported by the node.",
    "addresses": "List of addresses reachable to the node. Queried from cloud provider, if available. More info: "
                 "https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as "
                 "mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it "
                 "is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an "
                 "example. Consumers should assume that addresses can change during the lifetime of a Node. "
                 "However, there are some exceptions where this may not be possible, such as Pods that inherit a "
                 "Node's address in its own status or consumers of the downward API (status.hostIP).",
    "osImage": "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
    "kernelVersion": "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    "containerRuntimeVersion": "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
                               "containerd://1.4.2).",
    "lastTimestamp": "The time at which the most recent occurrence of this event was recorded.",
    "ev.type": "Type of this event (Normal, Warning), new types could be added in the future",
    "reason": "This should be a short, machine understandable string that gives the reason for the transition "
              "into the object's current status.",
    "involvedObject": "The object that this event is about.",
    "fieldPath": "If referring to a piece of an object instead of an entire object, this string should contain a "
                 "valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if "
                 "the object reference is to a container within a pod, this would take on a value like: "
                 '"spec.containers{name}" (where "name" refers to the name of the container that triggered the '
                 'event) or if no container name is specified "spec.containers[2]" (container with index 2 in this '
                 "pod). This syntax is chosen only to have some well-defined way of referencing a part of an "
                 "object.",
    "source": "The component reporting this event. Should be a short machine understandable string.",
    "message": "A human-readable description of the status of this operation.",
    "firstTimestamp": "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    "count": "The number of times this event has occurred.",
    "secret.type": "Used to facilitate programmatic handling of secret data. More info: "
                   "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
    "secret.data": "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or "
                   "'.'. The serialized form of the secret data is a base64 encoded string, representing the "
                   "arbitrary (possibly non-string) data value here. Described in "
                   "https://tools.ietf.org/html/rfc4648#section-4",
    "cm.data": "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or "
               "'.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data "
               "must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
    "pvc.phase": "phase represents the current phase of PersistentVolumeClaim.",
    "volumeName": "volumeName is the binding reference to the PersistentVolume backing this claim.",
    "pvc.capacity": "capacity represents the actual resources of the underlying volume.",
    "pvc.accessModes": "accessModes contains the actual access modes the volume backing the PVC has. More info: "
                       "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1",
    "volumeMode": "volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied "
                  "when not included in claim spec.",
    "updatedReplicas": "Total number of non-terminating pods targeted by this deployment that have the desired "
                       "template spec.",
    "availableReplicas": "Total number of available non-terminating pods (ready for at least minReadySeconds) "
                         "targeted by this deployment.",
    "deploy.selector": "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the "
                       "ones affected by this deployment. It must match the pod template's labels.",
    "scaleTargetRef": "scaleTargetRef points to the target resource to scale, and is used to the pods for which "
                      "metrics should be collected, as well as to actually change the replica count.",
    "metrics": "metrics contains the specifications for which to use to calculate the desired replica count (the "
               "maximum replica count across all metrics will be used).  The desired replica count is calculated "
               "multiplying the ratio between the target value and the current value by the current number of "
               "pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the "
               "individual metric source types for more information about how each type of metric must respond. "
               "If not set, the default metric will be set to 80% average CPU utilization.",
    "minReplicas": "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale "
                   "down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate "
                   "HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is "
                   "active as long as at least one metric value is available.",
    "maxReplicas": "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale "
                   "up. It cannot be less that minReplicas.",
    "currentReplicas": "currentReplicas is current number of replicas of pods managed by this autoscaler, as last "
                       "seen by the autoscaler.",
    "podSelector": "Selects the pods to which this NetworkPolicy object applies. The array of ingress rules is "
                   "applied to any pods selected by this field. Multiple network policies can select the same set "
                   "of pods. In this case, the ingress rules for each are combined additively. This field is NOT "
                   "optional and follows standard label selector semantics. An empty podSelector matches all pods "
                   "in this namespace.",
    "rb.roleRef": "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. "
                  "If the RoleRef cannot be resolved, the Authorizer must return an error.",
    "crb.roleRef": "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be "
                   "resolved, the Authorizer must return an error.",
    "holderIdentity": "holderIdentity contains the identity of the holder of a current lease. If Coordinated "
                      "Leader Election is used, the holder identity must be equal to the elected "
                      "LeaseCandidate.metadata.name field.",
}


def _containers_columns(selector_doc: str | None, selector: Callable[[Obj], str] | None,
                        template: Callable[[Obj], Any]) -> list[Column]:
    """The wide CONTAINERS, IMAGES (and SELECTOR) columns of the workload kinds."""
    cols = [_col("Containers", "string", _static(lambda o: _containers(template(o))[0]), CONTAINERS_DOC, priority=1),
            _col("Images", "string", _static(lambda o: _containers(template(o))[1]), IMAGES_DOC, priority=1)]
    if selector_doc is not None and selector is not None:
        cols.append(_col("Selector", "string", _static(selector), selector_doc, priority=1))
    return cols


def _pod_template_spec(obj: Obj) -> Any:
    return _dig(obj, "spec", "template", "spec")


# --- pods ---------------------------------------------------------------------------------------------------------

NODE_UNREACHABLE_REASON = "NodeLost"  # node.NodeUnreachablePodReason


def _later(current: datetime | None, candidate: Any) -> datetime | None:
    when = parse_time(candidate)
    return when if when is not None and (current is None or when > current) else current


def _terminated_reason(terminated: Obj, prefix: str = "") -> str:
    if reason := _str(terminated.get("reason")):
        return prefix + reason
    if signal := _int(terminated.get("signal")):
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{_int(terminated.get('exitCode'))}"


def _condition_true(status: Obj, kind: str) -> bool:
    """hasPodReadyCondition: any condition of the type is True."""
    return any(_obj(c).get("type") == kind and _obj(c).get("status") == "True" for c in _list(status.get("conditions")))


def _first_condition_true(status: Obj, kind: str) -> bool:
    """isPodInitializedConditionTrue: the first condition of the type decides."""
    for cond in map(_obj, _list(status.get("conditions"))):
        if cond.get("type") == kind:
            return cond.get("status") == "True"
    return False


def pod_summary(pod: Obj, now: datetime) -> tuple[str, str, str]:
    """printPod's READY, STATUS and RESTARTS cells."""
    spec, status = _spec(pod), _status(pod)
    phase = _str(status.get("phase"))
    reason = _str(status.get("reason")) or phase
    for cond in map(_obj, _list(status.get("conditions"))):
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    init_specs = [_obj(c) for c in _list(spec.get("initContainers"))]
    sidecars = {_str(c.get("name")) for c in init_specs if c.get("restartPolicy") == "Always"}
    total = len(_list(spec.get("containers"))) + sum(1 for c in init_specs if c.get("restartPolicy") == "Always")
    ready = restarts = sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None

    initializing = False
    for i, cs in enumerate(map(_obj, _list(status.get("initContainerStatuses")))):
        count, finished = _int(cs.get("restartCount")), _dig(cs, "lastState", "terminated", "finishedAt")
        restarts += count
        last_restart = _later(last_restart, finished)
        sidecar = _str(cs.get("name")) in sidecars
        if sidecar:
            sidecar_restarts += count
            last_sidecar_restart = _later(last_sidecar_restart, finished)
        state = _obj(cs.get("state"))
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if isinstance(terminated, dict) and _int(terminated.get("exitCode")) == 0:
            continue
        if sidecar and cs.get("started") is True:
            ready += cs.get("ready") is True
            continue
        if isinstance(terminated, dict):
            reason = _terminated_reason(terminated, "Init:")
        elif isinstance(waiting, dict) and _str(waiting.get("reason")) not in ("", "PodInitializing"):
            reason = "Init:" + _str(waiting.get("reason"))
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _first_condition_true(status, "Initialized"):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running, error_reason = False, ""
        for cs in reversed([_obj(c) for c in _list(status.get("containerStatuses"))]):
            restarts += _int(cs.get("restartCount"))
            last_restart = _later(last_restart, _dig(cs, "lastState", "terminated", "finishedAt"))
            state = _obj(cs.get("state"))
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if isinstance(waiting, dict) and _str(waiting.get("reason")):
                reason = _str(waiting.get("reason"))
            elif isinstance(terminated, dict):
                reason = _terminated_reason(terminated)
                if _int(terminated.get("exitCode")) != 0:
                    error_reason = reason
            elif cs.get("ready") is True and isinstance(state.get("running"), dict):
                has_running = True
                ready += 1
        if reason == "Completed":  # a container still running makes the pod Running (or NotReady) again
            if has_running and _condition_true(status, "Ready"):
                reason = "Running"
            elif error_reason:
                reason = error_reason
            elif has_running:
                reason = "NotReady"

    deleting = _meta(pod).get("deletionTimestamp") is not None
    if deleting and status.get("reason") == NODE_UNREACHABLE_REASON:
        reason = "Unknown"
    elif deleting and phase not in ("Failed", "Succeeded"):
        reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts and last_restart is not None:
        restarts_cell = f"{restarts} ({human_duration((now - last_restart).total_seconds())} ago)"
    return f"{ready}/{total}", reason, restarts_cell


def _pod_ip(pod: Obj) -> str:
    ips = _list(_dig(pod, "status", "podIPs"))
    ip = _str(_obj(ips[0]).get("ip")) if ips else _str(_dig(pod, "status", "podIP"))
    return ip or "<none>"


def _readiness_gates(pod: Obj) -> str:
    gates = [_obj(g) for g in _list(_dig(pod, "spec", "readinessGates"))]
    if not gates:
        return "<none>"
    conditions = [_obj(c) for c in _list(_dig(pod, "status", "conditions"))]
    true = 0
    for gate in gates:
        match = next((c for c in conditions if c.get("type") == gate.get("conditionType")), None)
        true += match is not None and match.get("status") == "True"
    return f"{true}/{len(gates)}"


def pod_conditions(pod: Obj) -> list[Obj]:
    """The row conditions kube sets on finished pods."""
    phase = _dig(pod, "status", "phase")
    if phase == "Succeeded":
        return [{"type": "Completed", "status": "True", "reason": "Succeeded",
                 "message": "The pod has completed successfully."}]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return []


POD_COLUMNS = [
    NAME_COLUMN,
    _col("Ready", "string", lambda o, now: pod_summary(o, now)[0],
         "The aggregate readiness state of this pod for accepting traffic."),
    _col("Status", "string", lambda o, now: pod_summary(o, now)[1],
         "The aggregate status of the containers in this pod."),
    _col("Restarts", "string", lambda o, now: pod_summary(o, now)[2],
         "The number of times the containers in this pod have been restarted and when the last container in this "
         "pod has restarted."),
    AGE_COLUMN,
    _col("IP", "string", _static(_pod_ip), _DOCS["podIP"], priority=1),
    _col("Node", "string", _static(lambda o: _str(_dig(o, "spec", "nodeName")) or "<none>"), _DOCS["nodeName"],
         priority=1),
    _col("Nominated Node", "string", _static(lambda o: _str(_dig(o, "status", "nominatedNodeName")) or "<none>"),
         _DOCS["nominatedNodeName"], priority=1),
    _col("Readiness Gates", "string", _static(_readiness_gates), _DOCS["readinessGates"], priority=1),
]


# --- workloads ----------------------------------------------------------------------------------------------------


def _replicas(obj: Obj) -> int:
    return _int(_dig(obj, "spec", "replicas"), 1)  # apps/v1 defaults replicas to 1


def _status_int(field: str) -> Callable[[Obj, datetime], int]:
    return _static(lambda o: _int(_dig(o, "status", field)))


def _deployment_selector(obj: Obj) -> str:
    text = _selector_string(_dig(obj, "spec", "selector"))
    return "<invalid>" if text is None else text


DEPLOYMENT_COLUMNS = [
    NAME_COLUMN,
    _col("Ready", "string", _static(lambda o: f"{_int(_dig(o, 'status', 'readyReplicas'))}/{_replicas(o)}"),
         "Number of the pod with ready state"),
    _col("Up-to-date", "string", _status_int("updatedReplicas"), _DOCS["updatedReplicas"]),
    _col("Available", "string", _status_int("availableReplicas"), _DOCS["availableReplicas"]),
    AGE_COLUMN,
    *_containers_columns(_DOCS["deploy.selector"], _deployment_selector, _pod_template_spec),
]

REPLICASET_COLUMNS = [
    NAME_COLUMN,
    _col("Desired", "integer", _static(_replicas), _DOCS["rs.replicas"]),
    _col("Current", "integer", _status_int("replicas"), _DOCS["rs.status.replicas"]),
    _col("Ready", "integer", _status_int("readyReplicas"), _DOCS["rs.readyReplicas"]),
    AGE_COLUMN,
    *_containers_columns(_DOCS["rs.selector"], lambda o: format_label_selector(_dig(o, "spec", "selector")),
                         _pod_template_spec),
]

STATEFULSET_COLUMNS = [
    NAME_COLUMN,
    _col("Ready", "string", _static(lambda o: f"{_int(_dig(o, 'status', 'readyReplicas'))}/{_replicas(o)}"),
         "Number of the pod with ready state"),
    AGE_COLUMN,
    *_containers_columns(None, None, _pod_template_spec),
]

DAEMONSET_COLUMNS = [
    NAME_COLUMN,
    _col("Desired", "integer", _status_int("desiredNumberScheduled"), _DOCS["desiredNumberScheduled"]),
    _col("Current", "integer", _status_int("currentNumberScheduled"), _DOCS["currentNumberScheduled"]),
    _col("Ready", "integer", _status_int("numberReady"), _DOCS["numberReady"]),
    _col("Up-to-date", "integer", _status_int("updatedNumberScheduled"), _DOCS["updatedNumberScheduled"]),
    _col("Available", "integer", _status_int("numberAvailable"), _DOCS["numberAvailable"]),
    _col("Node Selector", "string", _static(lambda o: format_labels(_dig(o, "spec", "template", "spec",
                                                                        "nodeSelector"))), _DOCS["nodeSelector"]),
    AGE_COLUMN,
    *_containers_columns(_DOCS["ds.selector"], lambda o: format_label_selector(_dig(o, "spec", "selector")),
                         _pod_template_spec),
]


def _job_completions(job: Obj) -> str:
    spec, succeeded = _spec(job), _int(_dig(job, "status", "succeeded"))
    completions = spec.get("completions")
    if isinstance(completions, int):
        return f"{succeeded}/{completions}"
    parallelism = _int(spec.get("parallelism"))
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(job: Obj, now: datetime) -> str:
    start = parse_time(_dig(job, "status", "startTime"))
    if start is None:
        return ""
    end = parse_time(_dig(job, "status", "completionTime")) or now
    return human_duration((end - start).total_seconds())


def _job_status(job: Obj) -> str:
    conditions = _dig(job, "status", "conditions")
    if _has_condition(conditions, "Complete"):
        return "Complete"
    if _has_condition(conditions, "Failed"):
        return "Failed"
    if _meta(job).get("deletionTimestamp") is not None:
        return "Terminating"
    for kind in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if _has_condition(conditions, kind):
            return kind
    return "Running"


JOB_COLUMNS = [
    NAME_COLUMN,
    _col("Status", "string", _static(_job_status), "Status of the job."),
    _col("Completions", "string", _static(_job_completions), _DOCS["succeeded"]),
    _col("Duration", "string", _job_duration, "Time required to complete the job."),
    AGE_COLUMN,
    *_containers_columns(_DOCS["job.selector"], lambda o: format_label_selector(_dig(o, "spec", "selector")),
                         _pod_template_spec),
]


def _bool_ptr(value: Any) -> str:
    """printBoolPtr."""
    return "<unset>" if not isinstance(value, bool) else ("True" if value else "False")


def _last_schedule(cronjob: Obj, now: datetime) -> str:
    when = _dig(cronjob, "status", "lastScheduleTime")
    return "<none>" if when is None else age(when, now)


CRONJOB_COLUMNS = [
    NAME_COLUMN,
    _col("Schedule", "string", _static(lambda o: _str(_dig(o, "spec", "schedule"))), _DOCS["schedule"]),
    _col("Timezone", "string", _static(lambda o: _str(_dig(o, "spec", "timeZone")) or "<none>"), _DOCS["timeZone"]),
    _col("Suspend", "boolean", _static(lambda o: _bool_ptr(_dig(o, "spec", "suspend"))), _DOCS["suspend"]),
    _col("Active", "integer", _static(lambda o: len(_list(_dig(o, "status", "active")))), _DOCS["active"]),
    _col("Last Schedule", "string", _last_schedule, _DOCS["lastScheduleTime"]),
    AGE_COLUMN,
    *_containers_columns(_DOCS["job.selector"],
                         lambda o: format_label_selector(_dig(o, "spec", "jobTemplate", "spec", "selector")),
                         lambda o: _dig(o, "spec", "jobTemplate", "spec", "template", "spec")),
]


# --- services and networking --------------------------------------------------------------------------------------


def _load_balancer_ips(status: Any) -> str:
    """loadBalancerStatusStringer (wide: never clipped): IPs or hostnames, sorted and unique."""
    found = set()
    for ingress in map(_obj, _list(_dig(status, "loadBalancer", "ingress"))):
        if value := _str(ingress.get("ip")) or _str(ingress.get("hostname")):
            found.add(value)
    return ",".join(sorted(found))


def _external_ip(svc: Obj) -> str:
    """getServiceExternalIP."""
    spec = _spec(svc)
    external = [_str(ip) for ip in _list(spec.get("externalIPs"))]
    kind = spec.get("type")
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if kind == "LoadBalancer":
        lb = _load_balancer_ips(svc.get("status"))
        if external:
            return ",".join([*(lb.split(",") if lb else []), *external])
        return lb or "<pending>"
    if kind == "ExternalName":
        return _str(spec.get("externalName"))
    return "<unknown>"


def service_ports(svc: Obj) -> str:
    """makePortString: `80/TCP`, `80:30080/TCP` with a node port, comma-separated; "<none>" when empty."""
    pieces = []
    for port in map(_obj, _list(_dig(svc, "spec", "ports"))):
        protocol = _str(port.get("protocol")) or "TCP"
        node_port = _int(port.get("nodePort"))
        pieces.append(f"{_int(port.get('port'))}:{node_port}/{protocol}" if node_port > 0
                      else f"{_int(port.get('port'))}/{protocol}")
    return ",".join(pieces) or "<none>"


def _cluster_ip(svc: Obj) -> str:
    ips = _list(_dig(svc, "spec", "clusterIPs"))
    ip = _str(ips[0]) if ips else _str(_dig(svc, "spec", "clusterIP"))
    return ip or "<none>"


SERVICE_COLUMNS = [
    NAME_COLUMN,
    _col("Type", "string", _static(lambda o: _str(_dig(o, "spec", "type"))), _DOCS["svc.type"]),
    _col("Cluster-IP", "string", _static(_cluster_ip), _DOCS["clusterIP"]),
    _col("External-IP", "string", _static(_external_ip), _DOCS["externalIPs"]),
    _col("Port(s)", "string", _static(service_ports), _DOCS["ports"]),
    AGE_COLUMN,
    _col("Selector", "string", _static(lambda o: format_labels(_dig(o, "spec", "selector"))), _DOCS["svc.selector"],
         priority=1),
]


def format_endpoints(endpoints: Obj) -> str:
    """formatEndpoints (all ports): up to three `ip:port`, then `+ N more...`."""
    subsets = [_obj(s) for s in _list(endpoints.get("subsets"))]
    if not subsets:
        return "<none>"
    shown: list[str] = []
    limit, more, count = 3, False, 0
    for subset in subsets:
        addresses = [_str(_obj(a).get("ip")) for a in _list(subset.get("addresses"))]
        ports: list[Obj | None] = [_obj(p) for p in _list(subset.get("ports"))]
        for port in ports or [None]:  # a headless service may publish addresses without ports
            count += len(addresses)
            for ip in addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(ip if port is None else _join_host_port(ip, _int(port.get("port"))))
    text = ",".join(shown)
    return f"{text} + {count - limit} more..." if more else text


def _join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"  # net.JoinHostPort brackets IPv6


def _ingress_hosts(ingress: Obj) -> str:
    """formatHosts: up to three hosts, `*` when no rule names one."""
    rules = [_obj(r) for r in _list(_dig(ingress, "spec", "rules"))]
    shown: list[str] = []
    limit, more = 3, False
    for rule in rules:
        if len(shown) == limit:
            more = True
        if not more and _str(rule.get("host")):
            shown.append(_str(rule.get("host")))
    if not shown:
        return "*"
    text = ",".join(shown)
    return f"{text} + {len(rules) - limit} more..." if more else text


INGRESS_COLUMNS = [
    NAME_COLUMN,
    _col("Class", "string", _static(lambda o: _str(_dig(o, "spec", "ingressClassName")) or "<none>"),
         "The name of the IngressClass resource that should be used for additional configuration"),
    _col("Hosts", "string", _static(_ingress_hosts),
         "Hosts that incoming requests are matched against before the ingress rule"),
    _col("Address", "string", _static(lambda o: _load_balancer_ips(o.get("status"))),
         "Address is a list containing ingress points for the load-balancer"),
    _col("Ports", "string", _static(lambda o: "80, 443" if _list(_dig(o, "spec", "tls")) else "80"),
         "Ports of TLS configurations that open"),
    AGE_COLUMN,
]

NETWORKPOLICY_COLUMNS = [
    NAME_COLUMN,
    _col("Pod-Selector", "string", _static(lambda o: format_label_selector(_obj(_dig(o, "spec", "podSelector")))),
         _DOCS["podSelector"]),
    AGE_COLUMN,
]


# --- nodes and events ---------------------------------------------------------------------------------------------

NODE_ROLE_PREFIX = "node-role.kubernetes.io/"  # labelNodeRolePrefix
NODE_ROLE_LABEL = "kubernetes.io/role"  # nodeLabelRole


def _node_status(node: Obj) -> str:
    conditions = {_obj(c).get("type"): _obj(c) for c in _list(_dig(node, "status", "conditions"))}
    ready = conditions.get("Ready")
    states = ["Unknown" if ready is None else ("Ready" if ready.get("status") == "True" else "NotReady")]
    if _dig(node, "spec", "unschedulable") is True:
        states.append("SchedulingDisabled")
    return ",".join(states)


def _node_roles(node: Obj) -> str:
    roles = set()
    for key, value in _obj(_meta(node).get("labels")).items():
        if key.startswith(NODE_ROLE_PREFIX) and key[len(NODE_ROLE_PREFIX):]:
            roles.add(key[len(NODE_ROLE_PREFIX):])
        elif key == NODE_ROLE_LABEL and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _node_address(kind: str) -> Callable[[Obj], str]:
    def first(node: Obj) -> str:
        found = (_str(_obj(a).get("address")) for a in _list(_dig(node, "status", "addresses"))
                 if _obj(a).get("type") == kind)
        return next(found, "<none>")
    return first


def _node_info(field: str, default: str = "<unknown>") -> Callable[[Obj, datetime], str]:
    return _static(lambda o: _str(_dig(o, "status", "nodeInfo", field)) or default)


NODE_COLUMNS = [
    NAME_COLUMN,
    _col("Status", "string", _static(_node_status), "The status of the node"),
    _col("Roles", "string", _static(_node_roles), "The roles of the node"),
    AGE_COLUMN,
    _col("Version", "string", _node_info("kubeletVersion", ""), _DOCS["kubeletVersion"]),
    _col("Internal-IP", "string", _static(_node_address("InternalIP")), _DOCS["addresses"], priority=1),
    _col("External-IP", "string", _static(_node_address("ExternalIP")), _DOCS["addresses"], priority=1),
    _col("OS-Image", "string", _node_info("osImage"), _DOCS["osImage"], priority=1),
    _col("Kernel-Version", "string", _node_info("kernelVersion"), _DOCS["kernelVersion"], priority=1),
    _col("Container-Runtime", "string", _node_info("containerRuntimeVersion"), _DOCS["containerRuntimeVersion"],
         priority=1),
]

# events.k8s.io/v1 field -> core/v1 field: both groups are served from the core Event storage.
_EVENTS_V1_TO_CORE = {"regarding": "involvedObject", "note": "message", "deprecatedSource": "source",
                      "deprecatedFirstTimestamp": "firstTimestamp", "deprecatedLastTimestamp": "lastTimestamp",
                      "deprecatedCount": "count", "reportingController": "reportingComponent"}


def as_core_event(event: Obj) -> Obj:
    """An events.k8s.io/v1 Event read with core/v1 field names."""
    return {_EVENTS_V1_TO_CORE.get(k, k): v for k, v in event.items()}


def _event_times(event: Obj, now: datetime) -> tuple[str, str, int]:
    """printEvent's LAST SEEN, FIRST SEEN and COUNT."""
    first_seen = event.get("firstTimestamp") if parse_time(event.get("firstTimestamp")) else event.get("eventTime")
    first = age(first_seen, now)
    last = age(event["lastTimestamp"], now) if parse_time(event.get("lastTimestamp")) else first
    count = _int(event.get("count"))
    series = event.get("series")
    if isinstance(series, dict):
        last, count = age(series.get("lastObservedTime"), now), _int(series.get("count"))
    elif count == 0:
        count = 1  # singleton events of the new API carry no count
    return last, first, count


def _event_object(event: Obj) -> str:
    ref = _obj(event.get("involvedObject"))
    kind, name = _str(ref.get("kind")).lower(), _str(ref.get("name"))
    return f"{kind}/{name}" if name else kind


def _event_source(event: Obj) -> str:
    """formatEventSource: component (or reportingController), then host (or reportingInstance) after ", "."""
    source = _obj(event.get("source"))
    component = _str(source.get("component")) or _str(event.get("reportingComponent"))
    instance = _str(source.get("host")) or _str(event.get("reportingInstance"))
    return f"{component}, {instance}" if instance else component


def _event_columns(view: Callable[[Obj], Obj]) -> list[Column]:
    def cell(fn: Callable[[Obj, datetime], Any]) -> Callable[[Obj, datetime], Any]:
        return lambda o, now: fn(view(o), now)

    return [
        _col("Last Seen", "string", cell(lambda e, now: _event_times(e, now)[0]), _DOCS["lastTimestamp"]),
        _col("Type", "string", cell(lambda e, _: _str(e.get("type"))), _DOCS["ev.type"]),
        _col("Reason", "string", cell(lambda e, _: _str(e.get("reason"))), _DOCS["reason"]),
        _col("Object", "string", cell(lambda e, _: _event_object(e)), _DOCS["involvedObject"]),
        _col("Subobject", "string", cell(lambda e, _: _str(_dig(e, "involvedObject", "fieldPath"))),
             _DOCS["fieldPath"], priority=1),
        _col("Source", "string", cell(lambda e, _: _event_source(e)), _DOCS["source"], priority=1),
        _col("Message", "string", cell(lambda e, _: _str(e.get("message")).strip()), _DOCS["message"]),
        _col("First Seen", "string", cell(lambda e, now: _event_times(e, now)[1]), _DOCS["firstTimestamp"],
             priority=1),
        _col("Count", "string", cell(lambda e, now: _event_times(e, now)[2]), _DOCS["count"], priority=1),
        _col("Name", "string", cell(lambda e, _: _str(_dig(e, "metadata", "name"))), NAME_DOC, priority=1,
             format="name"),
    ]


# --- config, storage, policy --------------------------------------------------------------------------------------


def _access_modes(modes: Any) -> str:
    """helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order."""
    have = set(_list(modes))
    short = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP"))
    return ",".join(abbrev for mode, abbrev in short if mode in have)


def _pvc_bound(pvc: Obj, cell: Callable[[Obj], str]) -> str:
    return cell(pvc) if _str(_dig(pvc, "spec", "volumeName")) else ""


def _pvc_class(pvc: Obj) -> str:
    """helper.GetPersistentVolumeClaimClass: the beta annotation wins over spec.storageClassName."""
    annotations = _obj(_meta(pvc).get("annotations"))
    if "volume.beta.kubernetes.io/storage-class" in annotations:
        return _str(annotations["volume.beta.kubernetes.io/storage-class"])
    return _str(_dig(pvc, "spec", "storageClassName"))


def _terminating_phase(obj: Obj) -> str:
    return "Terminating" if _meta(obj).get("deletionTimestamp") is not None else _str(_dig(obj, "status", "phase"))


PVC_COLUMNS = [
    NAME_COLUMN,
    _col("Status", "string", _static(_terminating_phase), _DOCS["pvc.phase"]),
    _col("Volume", "string", _static(lambda o: _str(_dig(o, "spec", "volumeName"))), _DOCS["volumeName"]),
    _col("Capacity", "string",
         _static(lambda o: _pvc_bound(o, lambda p: _quantity(_dig(p, "status", "capacity", "storage")))),
         _DOCS["pvc.capacity"]),
    _col("Access Modes", "string",
         _static(lambda o: _pvc_bound(o, lambda p: _access_modes(_dig(p, "status", "accessModes")))),
         _DOCS["pvc.accessModes"]),
    _col("StorageClass", "string", _static(_pvc_class), "StorageClass of the pvc"),
    _col("VolumeAttributesClass", "string",
         _static(lambda o: _str(_dig(o, "spec", "volumeAttributesClassName")) or "<unset>"),
         "VolumeAttributesClass of the pvc"),
    AGE_COLUMN,
    _col("VolumeMode", "string", _static(lambda o: _str(_dig(o, "spec", "volumeMode")) or "<unset>"),
         _DOCS["volumeMode"], priority=1),
]


def _quota_columns(quota: Obj) -> tuple[str, str]:
    """printResourceQuota: `name: used/hard` for each hard limit, limits.* in the second column."""
    hard, used = _obj(_dig(quota, "status", "hard")), _obj(_dig(quota, "status", "used"))
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        target = limits if resource.split(".")[0] == "limits" and "." in resource else requests
        target.append(f"{resource}: {_quantity(used.get(resource, '0'))}/{_quantity(hard[resource])}")
    return ", ".join(requests), ", ".join(limits)


def _int_or_string(value: Any) -> str:
    """IntOrString.String(), "N/A" when unset (printPodDisruptionBudget)."""
    if value is None:
        return "N/A"
    return value if isinstance(value, str) else str(value)


def _hpa_metric(spec: Obj, status: Obj | None) -> str:
    """One formatHPAMetrics entry."""
    kind = spec.get("type")
    if kind in ("External", "Object"):
        field = kind.lower()
        target = _obj(_dig(spec, field, "target"))
        current_src = _obj(_dig(status, field, "current")) if status and isinstance(status.get(field), dict) else None
        if target.get("averageValue") is not None:
            current = "<unknown>"
            if current_src is not None and current_src.get("averageValue") is not None:
                current = _quantity(current_src["averageValue"])
            return f"{current}/{_quantity(target['averageValue'])} (avg)"
        current = "<unknown>" if current_src is None else _quantity(current_src.get("value"))
        return f"{current}/{_quantity(target.get('value'))}"
    if kind == "Pods":
        pods = status.get("pods") if status else None
        current = _quantity(_dig(pods, "current", "averageValue")) if isinstance(pods, dict) else "<unknown>"
        return f"{current}/{_quantity(_dig(spec, 'pods', 'target', 'averageValue'))}"
    if kind in ("Resource", "ContainerResource"):
        field = "resource" if kind == "Resource" else "containerResource"
        source, target = _obj(spec.get(field)), _obj(_dig(spec, field, "target"))
        current_src = status.get(field) if status else None
        if target.get("averageValue") is not None:
            current = _quantity(_dig(current_src, "current", "averageValue")) if isinstance(current_src, dict) \
                else "<unknown>"
            return f"{_str(source.get('name'))}: {current}/{_quantity(target['averageValue'])}"
        utilization = _dig(current_src, "current", "averageUtilization")
        current = f"{utilization}%" if isinstance(utilization, int) else "<unknown>"
        want = target.get("averageUtilization")
        return f"{_str(source.get('name'))}: {current}/{f'{want}%' if isinstance(want, int) else '<auto>'}"
    return "<unknown type>"


def hpa_targets(hpa: Obj) -> str:
    """formatHPAMetrics: at most two metrics as `current/target`, then `+ N more...`."""
    specs = [_obj(m) for m in _list(_dig(hpa, "spec", "metrics"))]
    if not specs:
        return "<none>"
    statuses = [_obj(s) for s in _list(_dig(hpa, "status", "currentMetrics"))]
    shown = [_hpa_metric(spec, statuses[i] if i < len(statuses) else None) for i, spec in enumerate(specs)]
    limit = 2
    if len(shown) > limit:
        return ", ".join(shown[:limit]) + f" + {len(shown) - limit} more..."
    return ", ".join(shown)


def _hpa_min(hpa: Obj) -> str:
    value = _dig(hpa, "spec", "minReplicas")
    return str(value) if isinstance(value, int) else "<unset>"


def _subjects(binding: Obj, kind: str) -> str:
    """rbac.SubjectsStrings, one kind: users and groups by name, service accounts as namespace/name."""
    picked = []
    for subject in map(_obj, _list(binding.get("subjects"))):
        if subject.get("kind") == kind:
            name = _str(subject.get("name"))
            picked.append(f"{_str(subject.get('namespace'))}/{name}" if kind == "ServiceAccount" else name)
    return ", ".join(picked)


def _binding_columns(prefix: str, role_ref_doc: str) -> list[Column]:
    def role_ref(binding: Obj) -> str:
        ref = _obj(binding.get("roleRef"))
        return f"{_str(ref.get('kind'))}/{_str(ref.get('name'))}"

    return [
        NAME_COLUMN,
        _col("Role", "string", _static(role_ref), role_ref_doc),
        AGE_COLUMN,
        _col("Users", "string", _static(lambda o: _subjects(o, "User")), f"Users in the {prefix}", priority=1),
        _col("Groups", "string", _static(lambda o: _subjects(o, "Group")), f"Groups in the {prefix}", priority=1),
        _col("ServiceAccounts", "string", _static(lambda o: _subjects(o, "ServiceAccount")),
             f"ServiceAccounts in the {prefix}", priority=1),
    ]


# --- the table ----------------------------------------------------------------------------------------------------

COLUMNS: dict[tuple[str, str], list[Column]] = {
    ("", "pods"): POD_COLUMNS,
    ("", "services"): SERVICE_COLUMNS,
    ("", "namespaces"): [
        NAME_COLUMN,
        _col("Status", "string", _static(lambda o: _str(_dig(o, "status", "phase"))), "The status of the namespace"),
        AGE_COLUMN,
    ],
    ("", "configmaps"): [
        NAME_COLUMN,
        _col("Data", "string", _static(lambda o: len(_obj(o.get("data"))) + len(_obj(o.get("binaryData")))),
             _DOCS["cm.data"]),
        AGE_COLUMN,
    ],
    ("", "secrets"): [
        NAME_COLUMN,
        _col("Type", "string", _static(lambda o: _str(o.get("type"))), _DOCS["secret.type"]),
        _col("Data", "string", _static(lambda o: len(_obj(o.get("data")))), _DOCS["secret.data"]),
        AGE_COLUMN,
    ],
    ("", "serviceaccounts"): [NAME_COLUMN, AGE_COLUMN],
    ("", "endpoints"): [
        NAME_COLUMN,
        _col("Endpoints", "string", _static(format_endpoints), _DOCS["subsets"]),
        AGE_COLUMN,
    ],
    ("", "events"): _event_columns(lambda e: e),
    ("", "nodes"): NODE_COLUMNS,
    ("", "persistentvolumeclaims"): PVC_COLUMNS,
    ("", "limitranges"): created_at_columns(),  # registered with rest.NewDefaultTableConvertor
    ("", "resourcequotas"): [
        NAME_COLUMN,
        _col("Request", "string", _static(lambda o: _quota_columns(o)[0]),
             "Request represents a minimum amount of cpu/memory that a container may consume."),
        _col("Limit", "string", _static(lambda o: _quota_columns(o)[1]),
             "Limits control the maximum amount of cpu/memory that a container may use independent of contention "
             "on the node."),
        AGE_COLUMN,
    ],
    ("apps", "deployments"): DEPLOYMENT_COLUMNS,
    ("apps", "replicasets"): REPLICASET_COLUMNS,
    ("apps", "statefulsets"): STATEFULSET_COLUMNS,
    ("apps", "daemonsets"): DAEMONSET_COLUMNS,
    ("batch", "jobs"): JOB_COLUMNS,
    ("batch", "cronjobs"): CRONJOB_COLUMNS,
    ("coordination.k8s.io", "leases"): [
        NAME_COLUMN,
        _col("Holder", "string", _static(lambda o: _str(_dig(o, "spec", "holderIdentity"))), _DOCS["holderIdentity"]),
        AGE_COLUMN,
    ],
    ("events.k8s.io", "events"): _event_columns(as_core_event),
    ("policy", "poddisruptionbudgets"): [
        NAME_COLUMN,
        _col("Min Available", "string", _static(lambda o: _int_or_string(_dig(o, "spec", "minAvailable"))),
             "The minimum number of pods that must be available."),
        _col("Max Unavailable", "string", _static(lambda o: _int_or_string(_dig(o, "spec", "maxUnavailable"))),
             "The maximum number of pods that may be unavailable."),
        _col("Allowed Disruptions", "integer", _status_int("disruptionsAllowed"),
             "Calculated number of pods that may be disrupted at this time."),
        AGE_COLUMN,
    ],
    ("autoscaling", "horizontalpodautoscalers"): [
        NAME_COLUMN,
        _col("Reference", "string",
             _static(lambda o: f"{_str(_dig(o, 'spec', 'scaleTargetRef', 'kind'))}/"
                               f"{_str(_dig(o, 'spec', 'scaleTargetRef', 'name'))}"),
             _DOCS["scaleTargetRef"]),
        _col("Targets", "string", _static(hpa_targets), _DOCS["metrics"]),
        _col("MinPods", "string", _static(_hpa_min), _DOCS["minReplicas"]),
        _col("MaxPods", "string", _static(lambda o: _int(_dig(o, "spec", "maxReplicas"))), _DOCS["maxReplicas"]),
        _col("Replicas", "string", _status_int("currentReplicas"), _DOCS["currentReplicas"]),
        AGE_COLUMN,
    ],
    ("networking.k8s.io", "ingresses"): INGRESS_COLUMNS,
    ("networking.k8s.io", "networkpolicies"): NETWORKPOLICY_COLUMNS,
    # Roles and ClusterRoles have no printer: kube registers rest.NewDefaultTableConvertor for them.
    ("rbac.authorization.k8s.io", "roles"): created_at_columns(),
    ("rbac.authorization.k8s.io", "clusterroles"): created_at_columns(),
    ("rbac.authorization.k8s.io", "rolebindings"): _binding_columns("roleBinding", _DOCS["rb.roleRef"]),
    ("rbac.authorization.k8s.io", "clusterrolebindings"): _binding_columns("clusterRoleBinding",
                                                                           _DOCS["crb.roleRef"]),
}

ROW_CONDITIONS: Mapping[tuple[str, str], RowConditions] = {("", "pods"): pod_conditions}


def columns_for(group: str, plural: str) -> list[Column]:
    """The kind's printer columns; NAME and AGE for kinds without one (custom resources)."""
    return COLUMNS.get((group, plural)) or default_columns()


def conditions_for(group: str, plural: str) -> RowConditions | None:
    """The function giving a row's `conditions`, for the kinds whose printer sets them (pods)."""
    return ROW_CONDITIONS.get((group, plural))

