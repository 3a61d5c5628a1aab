"""deploy/kuberay: manifests parse, pass an offline Kubernetes schema check, and fit together.

Core kinds are validated (strict: unknown fields fail) against the Kubernetes OpenAPI
schemas bundled in `kubernetes-validate`. The RayCluster CRD is not in those schemas: its
pod templates are validated as `PodTemplate`s, the rest by a structural check of the fields
KubeRay (ray.io/v1) requires.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
import yaml

from tests.deploy._util import KUBERAY, REPO, load_documents, tool

K8S_VERSION = "1.30.0"  # the oldest Kubernetes these manifests target
SECRET = "dynas-secrets"


@pytest.fixture(scope="module")
def kustomization() -> dict[str, Any]:
    return yaml.safe_load((KUBERAY / "kustomization.yaml").read_text())


@pytest.fixture(scope="module")
def documents(kustomization: dict[str, Any]) -> list[dict[str, Any]]:
    docs = []
    for resource in kustomization["resources"]:
        docs.extend(load_documents(KUBERAY / resource))
    return docs


def by_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == kind}


def pod_specs(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every pod spec, named `<kind>/<name>[/<group>]`."""
    specs = {}
    for doc in documents:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] in ("Deployment", "StatefulSet"):
            specs[name] = doc["spec"]["template"]["spec"]
        elif doc["kind"] == "RayCluster":
            specs[name + "/head"] = doc["spec"]["headGroupSpec"]["template"]["spec"]
            for group in doc["spec"]["workerGroupSpecs"]:
                specs[f"{name}/{group['groupName']}"] = group["template"]["spec"]
    return specs


def test_kustomization_lists_every_manifest(kustomization: dict[str, Any]) -> None:
    files = {path.name for path in KUBERAY.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    assert kustomization["namespace"] == "dynas"


def test_expected_objects_are_there(documents: list[dict[str, Any]]) -> None:
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in documents}
    for wanted in [("RayCluster", "dynas"), ("Deployment", "dynas-api"), ("Service", "dynas-api"),
                   ("Deployment", "dynas-mlflow"), ("Service", "dynas-mlflow"),
                   ("StatefulSet", "dynas-postgres"), ("Service", "dynas-postgres"),
                   ("PersistentVolumeClaim", "dynas-shared"), ("ConfigMap", "dynas-config")]:
        assert wanted in kinds, wanted


def test_core_objects_pass_the_kubernetes_schema(documents: list[dict[str, Any]]) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    checked = 0
    for doc in documents:
        if doc["apiVersion"].startswith("ray.io/"):
            continue
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        checked += 1
    assert checked >= 10


def test_schema_check_catches_a_misspelled_field(documents: list[dict[str, Any]]) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    api = dict(by_kind(documents, "Deployment")["dynas-api"])
    api["spec"] = {**api["spec"], "replica": 1}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(api, K8S_VERSION, strict=True)


def test_raycluster_pod_templates_pass_the_kubernetes_schema(
    documents: list[dict[str, Any]],
) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    cluster = by_kind(documents, "RayCluster")["dynas"]["spec"]
    groups = [("head", cluster["headGroupSpec"])] + [
        (group["groupName"], group) for group in cluster["workerGroupSpecs"]]
    for name, group in groups:
        template = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": name},
                    "template": group["template"]}
        kubernetes_validate.validate(template, K8S_VERSION, strict=True)


def test_raycluster_structure(documents: list[dict[str, Any]]) -> None:
    cluster = by_kind(documents, "RayCluster")["dynas"]
    assert cluster["apiVersion"] == "ray.io/v1"
    spec = cluster["spec"]
    assert set(spec) <= {"rayVersion", "enableInTreeAutoscaling", "autoscalerOptions",
                         "headGroupSpec", "workerGroupSpecs", "suspend", "headServiceAnnotations"}
    pyproject = (REPO / "pyproject.toml").read_text()
    assert f'"ray[tune]=={".".join(spec["rayVersion"].split(".")[:2])}.*"' in pyproject
    assert spec["enableInTreeAutoscaling"] is True
    assert set(spec["autoscalerOptions"]) <= {"upscalingMode", "idleTimeoutSeconds", "resources",
                                              "env", "envFrom", "image", "imagePullPolicy",
                                              "securityContext", "volumeMounts", "version"}
    head = spec["headGroupSpec"]
    assert all(isinstance(v, str) for v in head["rayStartParams"].values())
    assert head["rayStartParams"]["num-cpus"] == "0"  # the head only coordinates
    names = [group["groupName"] for group in spec["workerGroupSpecs"]]
    assert len(names) == len(set(names)) and {"cpu", "gpu"} <= set(names)
    for group in spec["workerGroupSpecs"]:
        assert set(group) <= {"groupName", "replicas", "minReplicas", "maxReplicas",
                              "rayStartParams", "template", "scaleStrategy", "suspend",
                              "numOfHosts", "idleTimeoutSeconds"}
        assert 0 <= group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
        assert group["maxReplicas"] > group["minReplicas"], "autoscaling needs room"
        assert all(isinstance(v, str) for v in group["rayStartParams"].values())
        containers = group["template"]["spec"]["containers"]
        assert len(containers) == 1 and containers[0]["resources"]["limits"]["cpu"]


def test_gpu_group_requests_gpus_and_uses_the_cuda_image(documents: list[dict[str, Any]]) -> None:
    spec = by_kind(documents, "RayCluster")["dynas"]["spec"]
    groups = {group["groupName"]: group for group in spec["workerGroupSpecs"]}
    gpu = groups["gpu"]["template"]["spec"]
    limits = gpu["containers"][0]["resources"]["limits"]
    assert int(limits["nvidia.com/gpu"]) >= 1
    assert gpu["containers"][0]["image"].endswith(":cuda")
    assert any(t["key"] == "nvidia.com/gpu" for t in gpu["tolerations"])
    assert groups["gpu"]["minReplicas"] == 0  # GPU nodes only while a job asks for GPUs
    cpu_limits = groups["cpu"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert "nvidia.com/gpu" not in cpu_limits


def test_shared_storage_is_read_write_many_and_mounted_everywhere_it_is_needed(
    documents: list[dict[str, Any]],
) -> None:
    claim = by_kind(documents, "PersistentVolumeClaim")["dynas-shared"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    config = by_kind(documents, "ConfigMap")["dynas-config"]["data"]
    assert config["DYNAS_DATA_DIR"] == "/data"
    assert config["DYNAS_STORAGE_URI"].startswith("/data/")
    for name, spec in pod_specs(documents).items():
        if not (name.startswith("RayCluster/") or name == "Deployment/dynas-api"):
            continue
        claims = {v["name"]: v["persistentVolumeClaim"]["claimName"]
                  for v in spec["volumes"] if "persistentVolumeClaim" in v}
        mounts = {m["mountPath"]: m["name"] for m in spec["containers"][0]["volumeMounts"]}
        assert claims.get(mounts.get("/data")) == "dynas-shared", name


def test_api_reaches_the_ray_head_service_and_runs_once(documents: list[dict[str, Any]]) -> None:
    api = by_kind(documents, "Deployment")["dynas-api"]
    assert api["spec"]["replicas"] == 1 and api["spec"]["strategy"]["type"] == "Recreate"
    container = api["spec"]["template"]["spec"]["containers"][0]
    env = {item["name"]: item for item in container["env"]}
    cluster_name = next(iter(by_kind(documents, "RayCluster")))
    assert env["DYNAS_RAY_ADDRESS"]["value"] == f"{cluster_name}-head-svc:6379"
    assert env["DYNAS_DATABASE_URL"]["value"].startswith("postgresql+psycopg://")
    assert "@dynas-postgres:5432/" in env["DYNAS_DATABASE_URL"]["value"]
    assert container["args"] == ["api"]
    services = by_kind(documents, "Service")
    assert services["dynas-api"]["spec"]["selector"] == api["spec"]["selector"]["matchLabels"]
    config = by_kind(documents, "ConfigMap")["dynas-config"]["data"]
    mlflow_host = config["DYNAS_MLFLOW_TRACKING_URI"].split("//")[1].split(":")[0]
    assert mlflow_host in services


def test_secrets_are_referenced_not_stored_and_documented(documents: list[dict[str, Any]]) -> None:
    assert not by_kind(documents, "Secret"), "secrets must not live in git"
    keys = set()
    for spec in pod_specs(documents).values():
        for container in spec["containers"]:
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == SECRET
                    keys.add(ref["key"])
    assert keys == {"postgres-password", "api-token", "ray-auth-token"}
    readme = (REPO / "deploy" / "README.md").read_text()
    for key in keys:
        assert f"--from-literal={key}=" in readme, key


def test_our_pods_run_as_non_root(documents: list[dict[str, Any]]) -> None:
    for name, spec in pod_specs(documents).items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name


def test_kustomize_builds(documents: list[dict[str, Any]]) -> None:
    kubectl = tool("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (it carries kustomize)")
    done = subprocess.run([kubectl, "kustomize", str(KUBERAY)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    built = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
    assert len(built) == len(documents)
    images = [c["image"] for spec in pod_specs(built).values() for c in spec["containers"]]
    assert "dynas-service:cuda" in images and "dynas-service:latest" in images
    for doc in built:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "dynas", doc["metadata"]["name"]


def test_manifest_files_are_plain_yaml() -> None:
    for path in KUBERAY.glob("*.yaml"):
        for doc in load_documents(path):
            assert {"apiVersion", "kind"} <= set(doc), path.name
