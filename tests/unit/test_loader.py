"""Loading files, folders, stdin, multi-document streams and Lists; nothing dropped silently."""

import io
import textwrap
from pathlib import Path

import pytest

from podbay.runtime.spec.loader import MAX_NODES, load_paths, load_text
from podbay.runtime.spec.objects import ConfigMap, PersistentVolumeClaim, Secret
from podbay.runtime.spec.pod import Pod
from podbay.runtime.spec.workloads import DaemonSet, Deployment, Job, ReplicaSet, StatefulSet

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: NAME}\nspec: {containers: [{name: c, image: busybox}]}\n"


def test_project_manifests_load(manifests: Path) -> None:
    result = load_paths([str(manifests)])
    assert result.ok, [str(e) for d in result.documents for e in d.errors]
    kinds = sorted(type(o).__name__ for o in result.objects())
    assert kinds == sorted(["ConfigMap", "Secret", "PersistentVolumeClaim", "Pod", "Pod", "Deployment",
                            "ReplicaSet", "StatefulSet", "DaemonSet", "Job"])
    types = {type(o) for o in result.objects()}
    assert types == {ConfigMap, Secret, PersistentVolumeClaim, Pod, Deployment, ReplicaSet, StatefulSet,
                     DaemonSet, Job}


def test_multi_document_files_keep_positions() -> None:
    docs = load_text(POD.replace("NAME", "a") + "---\n" + POD.replace("NAME", "b"), "two.yaml")
    assert [(d.name, d.source.document, d.source.line) for d in docs] == [("a", 1, 1), ("b", 2, 6)]
    assert str(docs[1].source) == "two.yaml: document 2"


def test_empty_documents_are_skipped_quietly() -> None:
    docs = load_text("---\n---\n" + POD.replace("NAME", "a") + "---\n# only a comment\n")
    assert [d.name for d in docs] == ["a"]


def test_stdin() -> None:
    result = load_paths(["-"], stdin=io.StringIO(POD.replace("NAME", "from-stdin")))
    assert result.ok and result.documents[0].source.file == "<stdin>"
    assert result.objects()[0].metadata.name == "from-stdin"


def test_folders_and_recursion(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(POD.replace("NAME", "a"))
    (tmp_path / "b.json").write_text('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}')
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yml").write_text(POD.replace("NAME", "c"))
    assert [d.name for d in load_paths([str(tmp_path)]).documents] == ["a", "b"]
    assert [d.name for d in load_paths([str(tmp_path)], recursive=True).documents] == ["a", "b", "c"]


def test_missing_file_and_empty_folder_are_errors(tmp_path: Path) -> None:
    result = load_paths([str(tmp_path / "nope.yaml"), str(tmp_path)])
    assert [str(d.errors[0]) for d in result.documents] == [
        "no such file or directory", "no .yaml, .yml, .json files in this folder"]
    assert not result.ok


def test_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"kind: \xff\xfe\n")
    assert "not UTF-8 text" in str(load_paths([str(bad)]).documents[0].errors[0])


def test_yaml_syntax_error_names_line_and_keeps_earlier_documents() -> None:
    docs = load_text(POD.replace("NAME", "ok") + "---\nkind: Pod\n  bad: [\n", "broken.yaml")
    assert docs[0].ok and docs[0].name == "ok"
    assert not docs[1].ok and docs[1].source.document == 2
    assert "invalid YAML" in str(docs[1].errors[0]) and "line" in str(docs[1].errors[0])


def test_tabs_are_a_yaml_error() -> None:
    docs = load_text("apiVersion: v1\nkind: Pod\nspec:\n\tcontainers: []\n")
    assert "invalid YAML" in str(docs[0].errors[0])


@pytest.mark.parametrize(("text", "message"), [
    ("just a string", "not a Kubernetes object: expected a mapping with apiVersion and kind, got str"),
    ("- a\n- b", "not a Kubernetes object: expected a mapping with apiVersion and kind, got list"),
    ("metadata: {name: x}", "apiVersion: Required value"),
    ("apiVersion: v1\nkind: Gadget\n", 'kind: unknown kind "Gadget" in apiVersion "v1": not a Kubernetes object'),
    ("apiVersion: apps/v1beta1\nkind: Deployment\n",
     'apiVersion: no matches for kind "Deployment" in version "apps/v1beta1" (podbay reads Deployment as apps/v1)'),
    ("apiVersion: kind.x-k8s.io/v1alpha4\nkind: Cluster\n", 'unknown kind "Cluster"'),
    ("apiVersion: 1\nkind: Pod\n", "apiVersion: Required value"),
])
def test_non_kubernetes_text_is_an_error(text: str, message: str) -> None:
    docs = load_text(text, "x.yaml")
    assert len(docs) == 1 and not docs[0].ok
    assert message in str(docs[0].errors[0])


@pytest.mark.parametrize(("api_version", "kind"), [
    ("v1", "Service"), ("v1", "PersistentVolume"), ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"), ("networking.k8s.io/v1", "Ingress"), ("batch/v1", "CronJob"),
])
def test_kinds_podbay_does_not_run_are_skipped_with_a_warning(api_version: str, kind: str) -> None:
    docs = load_text(f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: thing}}\n", "x.yaml")
    assert docs[0].ok and docs[0].skipped and docs[0].obj is None
    assert str(docs[0].warnings[0]) == (f'{kind} "thing" ({api_version}) is skipped: podbay does not run '
                                        f"{kind} objects")


def test_kind_list_items_are_documents() -> None:
    text = textwrap.dedent("""\
        apiVersion: v1
        kind: List
        items:
        - {apiVersion: v1, kind: ConfigMap, metadata: {name: one}}
        - apiVersion: v1
          kind: Pod
          metadata: {name: two}
          spec: {containers: [{name: c}]}
        """)
    docs = load_text(text, "list.yaml")
    assert [(d.kind, d.source.item) for d in docs] == [("ConfigMap", 0), ("Pod", 1)]
    assert docs[0].ok
    assert str(docs[1].errors[0]) == "spec.containers[0].image: Required value"
    assert docs[1].line_of(docs[1].errors[0].path) == 8


def test_error_lines_point_at_the_field() -> None:
    text = POD.replace("NAME", "p").replace("{name: c, image: busybox}", "{name: c, image: busybox, stdin: 3}")
    doc = load_text("# comment\n" + text)[0]
    assert doc.line_of(doc.errors[0].path) == 5


def test_duplicate_keys_are_errors() -> None:
    doc = load_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\nspec: {containers: []}\n")[0]
    assert str(doc.errors[0]) == "metadata.name: duplicate field 'name' (first at line 4)"


def test_alias_bombs_are_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 10)}]" for i in range(1, 9)]
    doc = load_text("\n".join(lines) + "\napiVersion: v1\nkind: Pod\n")[0]
    assert f"beyond {MAX_NODES} nodes" in str(doc.errors[0])


def test_secret_data_is_base64_decoded_and_string_data_wins() -> None:
    text = ("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: aGVsbG8=, b: b2xk}\n"
            "stringData: {b: new}\n")
    secret = load_text(text)[0].obj
    assert secret.values() == {"a": b"hello", "b": b"new"}
    assert secret.type == "Opaque"


def test_bad_base64_is_an_error_that_hides_the_secret() -> None:
    doc = load_text("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: 'not base64!'}\n")[0]
    message = str(doc.errors[0])
    assert message.startswith('data[a]: Invalid value: "<secret contents redacted>": illegal base64 data')
    assert "not base64" not in message


def test_every_document_is_accounted_for() -> None:
    text = "\n---\n".join([POD.replace("NAME", "ok"), "apiVersion: v1\nkind: Service\nmetadata: {name: s}",
                           "apiVersion: v1\nkind: Nope", POD.replace("NAME", "Bad_Name")])
    docs = load_text(text)
    assert [(d.ok, d.skipped) for d in docs] == [(True, False), (True, True), (False, False), (False, False)]


def test_json_with_surrogate_pair_escapes() -> None:
    """Valid JSON that YAML parsers refuse (escaped emoji) still loads."""
    text = ('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, '
            '"data": {"smile": "\\ud83d\\ude00"}}')
    docs = load_text(text, "c.json")
    assert docs[0].ok and docs[0].obj.data == {"smile": "\U0001F600"}
