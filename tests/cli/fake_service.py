"""An in-memory stand-in for the REST contract, served through ``httpx.MockTransport``.

It answers the way ``docs/api-contract.md`` says the real service does, records every
request, and lets a test script job progress; the client and CLI are tested against it
without a server. (The end-to-end test in ``test_end_to_end.py`` uses the real app.)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

BEST = {
    "metric": "accuracy", "value": 0.9812, "higher_is_better": True, "trial_id": "t1",
    "epoch": 17, "found_at_s": 41.2,
    "hyperparameters": {"learning_rate": 0.0004, "batch_size": 32, "reg_strength": 0.0001},
    "layer_sizes": [19, 14, 18], "parameters": 166000,
}  # fmt: skip
MODEL_BYTES = bytes(range(256)) * 300  # large enough to arrive in several chunks


def make_job(job_id: str, spec: dict[str, Any], status: str = "running") -> dict[str, Any]:
    """A Job as the contract shows it."""
    return {
        "id": job_id, "name": spec.get("name", f"{spec['dataset']}-job"), "status": status,
        "created_at": "2026-11-27T03:00:00Z", "started_at": "2026-11-27T03:00:01Z",
        "finished_at": None, "elapsed_s": 12.3,
        "spec": {"algorithm": "evolution", "budget": {"seconds": 600, "trials": None}, **spec},
        "trials": {"running": 2, "finished": 7, "total": 9}, "best": None, "error": None,
        "mlflow_run_id": "run1",
    }  # fmt: skip


@dataclass
class FakeService:
    """Routes of the contract over a dict of jobs; ``token`` switches auth on."""

    token: str | None = None
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    # Statuses handed out by successive GET /jobs/{id} calls (then the last one sticks);
    # "CTRL-C" raises KeyboardInterrupt during that poll instead.
    status_script: list[str] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        authorized = request.headers.get("authorization") == f"Bearer {self.token}"
        if path != "/healthz" and self.token is not None and not authorized:
            return _error(401, "missing or wrong bearer token")
        for pattern, method, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if match and request.method == method:
                return handler(request, *match.groups())
        return _error(404, f"no route {request.method} {path}")

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            (r"/healthz", "GET", lambda r: httpx.Response(200, json=_HEALTH)),
            (r"/metrics", "GET", lambda r: httpx.Response(200, text="dynas_jobs 1\n")),
            (r"/datasets", "POST", self._upload),
            (r"/datasets", "GET", lambda r: httpx.Response(200, json=[_DATASET])),
            (r"/datasets/([^/]+)", "GET", self._dataset),
            (r"/datasets/([^/]+)", "DELETE", lambda r, i: httpx.Response(204)),
            (r"/jobs", "POST", self._submit),
            (r"/jobs", "GET", lambda r: httpx.Response(200, json=list(self.jobs.values()))),
            (r"/jobs/([^/]+)", "GET", self._get_job),
            (r"/jobs/([^/]+)", "DELETE", self._delete_job),
            (r"/jobs/([^/]+)/stop", "POST", self._stop),
            (r"/jobs/([^/]+)/resume", "POST", self._resume),
            (r"/jobs/([^/]+)/best", "GET", self._best),
            (r"/jobs/([^/]+)/best/model", "GET", self._model),
            (r"/jobs/([^/]+)/predict", "POST", self._predict),
            (r"/jobs/([^/]+)/trials", "GET", lambda r, i: httpx.Response(200, json=_TRIALS)),
            (r"/jobs/([^/]+)/trace", "GET", lambda r, i: httpx.Response(200, json=_TRACE)),
            (r"/jobs/([^/]+)/trace\.png", "GET", lambda r, i: httpx.Response(200, content=PNG)),
        ]

    def _job_or_404(self, job_id: str) -> dict[str, Any] | httpx.Response:
        if job_id not in self.jobs:
            return _error(404, f"job {job_id!r} not found")
        return self.jobs[job_id]

    def _submit(self, request: httpx.Request) -> httpx.Response:
        spec = json.loads(request.content)
        if spec.get("dataset") not in ("digits", "puzzle8", "ds1"):
            detail = [{"loc": ["body", "dataset"], "msg": "unknown dataset 'nope'", "type": "x"}]
            return httpx.Response(422, json={"detail": detail})
        job_id = f"job{len(self.jobs) + 1}"
        self.jobs[job_id] = make_job(job_id, spec, status="queued")
        return httpx.Response(201, json=self.jobs[job_id])

    def _get_job(self, request: httpx.Request, job_id: str) -> httpx.Response:
        job = self._job_or_404(job_id)
        if isinstance(job, httpx.Response):
            return job
        if self.status_script and self.status_script[0] == "CTRL-C":
            self.status_script.pop(0)
            raise KeyboardInterrupt  # what a Ctrl-C during this poll looks like
        if self.status_script:
            job["status"] = self.status_script.pop(0)
            if job["status"] != "queued":
                job["best"] = BEST
        return httpx.Response(200, json=job)

    def _delete_job(self, request: httpx.Request, job_id: str) -> httpx.Response:
        job = self._job_or_404(job_id)
        if isinstance(job, httpx.Response):
            return job
        if job["status"] == "running":
            return _error(409, f"job {job_id} is running: stop it first")
        del self.jobs[job_id]
        return httpx.Response(204)

    def _stop(self, request: httpx.Request, job_id: str) -> httpx.Response:
        job = self._job_or_404(job_id)
        if isinstance(job, httpx.Response):
            return job
        job["status"] = "stopped"
        return httpx.Response(202, json=job)

    def _resume(self, request: httpx.Request, job_id: str) -> httpx.Response:
        job = self._job_or_404(job_id)
        if isinstance(job, httpx.Response):
            return job
        if request.content:
            job["spec"]["budget"] = json.loads(request.content)["budget"]
        job["status"] = "running"
        return httpx.Response(202, json=job)

    def _best(self, request: httpx.Request, job_id: str) -> httpx.Response:
        job = self._job_or_404(job_id)
        if isinstance(job, httpx.Response):
            return job
        if job["best"] is None:
            return _error(404, "no epoch has finished yet: try again in a few seconds")
        return httpx.Response(200, json=job["best"])

    def _model(self, request: httpx.Request, job_id: str) -> httpx.Response:
        fmt = request.url.params.get("format", "torchscript")
        if fmt not in ("torchscript", "safetensors", "onnx"):
            return _error(422, "format must be torchscript, safetensors or onnx")
        headers = {"content-disposition": f'attachment; filename="../{job_id}-best-v3.bin"'}
        answer = httpx.Response(200, content=MODEL_BYTES, headers=headers)
        return self._with_job(job_id, lambda job: answer)

    def _predict(self, request: httpx.Request, job_id: str) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        body = {"predictions": [len(row) % 10 for row in inputs],
                "probabilities": [[0.9, 0.1] for _ in inputs]}  # fmt: skip
        return self._with_job(job_id, lambda job: httpx.Response(200, json=body))

    def _with_job(self, job_id: str, answer: Any) -> httpx.Response:
        job = self._job_or_404(job_id)
        return job if isinstance(job, httpx.Response) else answer(job)

    def _upload(self, request: httpx.Request) -> httpx.Response:
        if b'filename="big.csv"' in request.content:
            return _error(413, "upload is larger than the 200 MB limit")
        return httpx.Response(201, json=_DATASET)

    def _dataset(self, request: httpx.Request, dataset_id: str) -> httpx.Response:
        if dataset_id != _DATASET["id"]:
            return _error(404, f"dataset {dataset_id!r} not found")
        return httpx.Response(200, json=_DATASET)


def _error(status: int, detail: str) -> httpx.Response:
    return httpx.Response(status, json={"detail": detail})


_HEALTH = {
    "status": "ok", "ray": {"status": "ok", "address": "127.0.0.1:6379"},
    "mlflow": {"status": "ok", "uri": None},
}  # fmt: skip
_DATASET = {
    "id": "ds1", "name": "iris.csv", "task": "classification", "n_samples": 150,
    "n_features": 4, "input_shape": [4], "n_classes": 3,
}  # fmt: skip
_TRIALS = [
    {"id": "t1", "status": "running", "hyperparameters": {"learning_rate": 0.001}, "epochs": 4,
     "last_metric": 0.9, "best_metric": 0.95, "layer_sizes": [20, 18], "parent_trial_id": None},
    {"id": "t2", "status": "running", "hyperparameters": {"learning_rate": 0.002}, "epochs": 2,
     "last_metric": 0.8, "best_metric": 0.85, "layer_sizes": [20, 12], "parent_trial_id": "t1"},
]  # fmt: skip
_TRACE = {
    "metric": "accuracy", "higher_is_better": True,
    "points": [{"t": 3.0, "value": 0.5, "trial_id": "t1", "epoch": 1},
               {"t": 9.5, "value": 0.9, "trial_id": "t1", "epoch": 3}],
}  # fmt: skip
PNG = b"\x89PNG\r\n\x1a\nfake"
