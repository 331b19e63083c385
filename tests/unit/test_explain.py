import pytest

from podbay.runtime.spec.explain import ExplainError, render, resolve


def test_explain_a_nested_field() -> None:
    text = render(resolve("pod.spec.containers.livenessProbe"))
    assert "KIND:       Pod" in text and "VERSION:    v1" in text
    assert "FIELD:      livenessProbe <Probe>" in text
    assert "PODBAY:     honoured" in text
    assert "Restart the container when this fails." in text
    assert "successThreshold\t<integer>" in text
    assert "httpGet\t<HTTPGetAction>" in text


def test_explain_says_what_podbay_ignores() -> None:
    text = render(resolve("pods.spec.nodeSelector"))
    assert "FIELD:      nodeSelector <map[string]string>" in text
    assert "PODBAY:     ignored on a single node (there is no scheduler" in text


def test_explain_aliases_and_kinds() -> None:
    assert "KIND:       Deployment" in render(resolve("deploy"))
    assert "VERSION:    batch/v1" in render(resolve("jobs.spec.template"))
    assert "strategy\t<DeploymentStrategy>" in render(resolve("deployment.spec"))
    assert "FIELD:      resources <ResourceRequirements>" in render(resolve("po.spec.containers.resources"))
    assert "limits\t<map[string]Quantity>" in render(resolve("po.spec.containers.resources"))


def test_explain_lists_ignored_fields_with_a_tag() -> None:
    assert "affinity\t<Object>  [ignored on a single node]" in render(resolve("pod.spec"))


def test_explain_recursive() -> None:
    text = render(resolve("pod.spec.containers"), recursive=True)
    assert "    exec\t<ExecAction>" in text and "      command\t<[]string>" in text


@pytest.mark.parametrize(("path", "message"), [
    ("pod.spec.containers.lifecyle", 'field "lifecyle" does not exist in Pod.spec.containers (did you mean '
                                     '"lifecycle"?)'),
    ("widget", "doesn't have a resource type \"widget\""),
    ("pod.metadata.name.first", "Pod.metadata.name is a string, not an object"),
    ("", "name a resource"),
])
def test_explain_errors(path: str, message: str) -> None:
    with pytest.raises(ExplainError, match=None) as caught:
        resolve(path)
    assert message in str(caught.value)
