"""The declarative schema: strict decoding, JSON names, warnings, encoding."""

from podbay.runtime.spec.explain import _element_type
from podbay.runtime.spec.kinds import KINDS
from podbay.runtime.spec.pod import ContainerPort, Pod, PodSpec, Volume
from podbay.runtime.spec.schema import DecodeContext, Honour, camel_case, decode, encode, fields_of, is_model


def decode_pod(data: object) -> tuple[Pod, DecodeContext]:
    ctx = DecodeContext()
    return decode(Pod, data, (), ctx), ctx


def test_json_names_follow_the_kubernetes_api() -> None:
    assert camel_case("image_pull_policy") == "imagePullPolicy"
    assert camel_case("host_ipc") == "hostIPC"
    assert camel_case("host_pid") == "hostPID"
    assert camel_case("set_hostname_as_fqdn") == "setHostnameAsFQDN"
    assert camel_case("http_get") == "httpGet"
    keys = set(fields_of(PodSpec))
    assert {"hostIPC", "hostPID", "dnsPolicy", "dnsConfig", "initContainers", "setHostnameAsFQDN"} <= keys
    assert {"hostIP", "containerPort"} <= set(fields_of(ContainerPort))
    assert "downwardAPI" in fields_of(Volume)


def test_every_field_has_a_description() -> None:
    seen: set[type] = set()
    pending = list(KINDS.values())
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        for key, info in fields_of(cls).items():
            assert info.doc, f"{cls.__name__}.{key} has no description"
            inner = _element_type(info.hint)
            if is_model(inner):
                pending.append(inner)
    assert len(seen) > 60


def test_unknown_fields_are_errors_with_a_suggestion() -> None:
    _, ctx = decode_pod({"spec": {"containers": [{"name": "a", "imagee": "x"}]}})
    assert [str(e) for e in ctx.errors] == [
        'spec.containers[0].imagee: Unknown field: field "imagee" is not part of this object '
        '(did you mean "image"?)']


def test_wrong_case_is_unknown_too() -> None:
    _, ctx = decode_pod({"spec": {"hostpid": True}})
    assert 'did you mean "hostPID"' in str(ctx.errors[0])


def test_types_are_strict() -> None:
    _, ctx = decode_pod({"spec": {"containers": [{"name": 5, "stdin": "yes", "ports": [{"containerPort": "80"}]}],
                                  "terminationGracePeriodSeconds": True}})
    messages = [str(e) for e in ctx.errors]
    assert 'spec.containers[0].name: Invalid type: 5: expected a string, got an integer (quote it' in messages[0]
    assert 'spec.containers[0].stdin: Invalid type: "yes": expected a boolean, got a string' in messages
    assert 'spec.containers[0].ports[0].containerPort: Invalid type: "80": expected an integer, got a string' \
        in messages
    assert 'spec.terminationGracePeriodSeconds: Invalid type: true: expected an integer, got a boolean' in messages


def test_yaml_11_trap_hint_for_strings() -> None:
    _, ctx = decode_pod({"metadata": {"labels": {"enabled": True, "version": 1.1}}})
    assert all("quote it" in str(e) for e in ctx.errors) and len(ctx.errors) == 2
    assert str(ctx.errors[0]).startswith("metadata.labels[enabled]: Invalid type: true")


def test_non_object_where_object_expected() -> None:
    _, ctx = decode_pod({"spec": ["not", "a", "map"]})
    assert str(ctx.errors[0]) == "spec: Invalid type: expected an object, got a list"


def test_null_means_unset() -> None:
    obj, ctx = decode_pod({"metadata": {"name": "x", "labels": None, "creationTimestamp": None}})
    assert not ctx.errors and not ctx.warnings
    assert obj.metadata is not None and obj.metadata.labels == {}


def test_ignored_fields_warn_and_are_kept() -> None:
    obj, ctx = decode_pod({"spec": {"nodeSelector": {"disk": "ssd"}, "tolerations": [{"key": "k"}]}})
    assert [str(w) for w in ctx.warnings] == [
        "spec.nodeSelector: ignored on a single node: there is no scheduler: the pod runs on this machine",
        "spec.tolerations: ignored on a single node: there is no scheduler: the pod runs on this machine"]
    assert obj.spec is not None and obj.spec.node_selector == {"disk": "ssd"}
    assert fields_of(PodSpec)["nodeSelector"].honour is Honour.IGNORED


def test_empty_ignored_fields_do_not_warn() -> None:
    _, ctx = decode_pod({"spec": {"nodeSelector": {}, "tolerations": [], "priority": 0}})
    assert not ctx.warnings


def test_encode_round_trip_omits_zero_values() -> None:
    data = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
            "spec": {"containers": [{"name": "c", "image": "i", "securityContext": {"runAsUser": 0}}],
                     "hostNetwork": False}}
    obj, ctx = decode_pod(data)
    assert not ctx.errors
    encoded = encode(obj)
    assert encoded["spec"] == {"containers": [{"name": "c", "image": "i", "securityContext": {"runAsUser": 0}}]}
