"""Warm Ray workers: trial processes that are up, with torch imported, before Tune asks.

Every runner is a new Ray driver, so a new Ray job, and Ray gives a job fresh worker
processes. Measured on the 2-core machine, a fresh worker spends ~4-5 s before a trial can
train: booting and joining the cluster (~0.7 s), importing torch, Ray Tune and the engine
(~2.8 s), and TorchDynamo, which torch imports when the first optimizer is built (~1.4 s,
``Optimizer.add_param_group`` is wrapped by ``torch._disable_dynamo``). Three pieces move
that off the path to a job's first result:

- :func:`runtime_env` names :func:`setup_worker` as the job's ``worker_process_setup_hook``
  (public Ray API): each worker of the job imports all of the above as it starts;
- :func:`prestart` asks each node's raylet to start idle workers for this job *now*, while
  the runner waits for a job or Tune sets up. Ray does this by itself only for the first
  driver on a node; for later drivers the raylet's ``PrestartWorkers`` RPC is the only way.
  The workers get the runtime env of Tune's trial actors (:func:`trial_runtime_env`): a
  raylet hands an idle worker only to an actor with the same serialized runtime env;
- :func:`warm` prestarts and waits until the workers are ready (each worker's hook leaves a
  marker in Ray's internal key-value store).

The RPC, its stubs, the KV store and Tune's actor env vars have no public API. This module
is the one place that touches them; ``tests/engine/test_warm_workers.py`` runs a real Tune
trial and fails loudly when a Ray upgrade moves any of them. Failing here only costs the
seconds back: a job never fails because its workers could not be prestarted.

A prestarted worker that no trial takes stays idle (holding its imports, ~0.45 GB RSS) until
``keep_alive_s`` ends or its job's driver exits, whichever comes first.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import ray
from ray.experimental import internal_kv

_log = logging.getLogger(__name__)

SETUP_HOOK = "dynas_service.engine.warm_workers.setup_worker"
_NAMESPACE = "dynas-warm-workers"


def runtime_env() -> dict[str, Any]:
    """The runtime environment a runner's ``ray.init`` gives its job."""
    return {"worker_process_setup_hook": SETUP_HOOK}


def setup_worker() -> None:
    """Ray's setup hook in each worker: import what a trial needs, then leave a marker
    for :func:`warm`. Never raises (an exception in the hook would kill the worker;
    a trial then imports on its own)."""
    try:
        import torch._dynamo  # noqa: F401  (see the module docstring)

        import dynas_service.engine.trainable  # noqa: F401  (torch, Ray Tune, the nn)
    except Exception:
        _log.exception("pre-importing the trainable in a Ray worker failed")
    try:
        key = f"{ray.get_runtime_context().get_job_id()}:{os.getpid()}"
        internal_kv._internal_kv_put(key, b"", namespace=_NAMESPACE)
    except Exception:
        _log.debug("could not mark this worker warm", exc_info=True)


def _markers() -> list[bytes]:
    """This job's warm-worker markers (private API: Ray's internal KV store)."""
    prefix = f"{ray.get_runtime_context().get_job_id()}:".encode()
    return list(internal_kv._internal_kv_list(prefix, namespace=_NAMESPACE))


def _forget(markers: list[bytes]) -> None:
    for key in markers:
        internal_kv._internal_kv_del(key, namespace=_NAMESPACE)


def warm(total: int | None = None, timeout_s: float = 60.0) -> int:
    """:func:`prestart` workers and wait (at most ``timeout_s``) until they imported what
    a trial needs; returns how many were seen warm. A worker that some actor takes before
    it is warm is not waited for past the timeout; best effort, never raises."""
    if not ray.is_initialized():
        return 0
    try:
        _forget(_markers())
    except Exception:
        _log.debug("cannot read warm-worker markers", exc_info=True)
        return 0
    requested = prestart(total)
    deadline = time.monotonic() + timeout_s
    seen: list[bytes] = []
    while requested and time.monotonic() < deadline:
        seen = _markers()
        if len(seen) >= requested:
            break
        time.sleep(0.1)
    _forget(seen)
    return len(seen)


def prestart(total: int | None = None, keep_alive_s: float = 3600.0) -> int:
    """Ask the alive nodes to start idle workers for the calling driver's Ray job.

    At most one per CPU of a node, and ``total`` over the cluster (default: one per CPU,
    what Ray prestarts for a first driver), node after node. Returns how many workers were
    requested (0 when Ray is not initialized or the request failed; logged, never raised).
    """
    if not ray.is_initialized():
        return 0
    try:
        request = _request(keep_alive_s)
    except Exception:
        _log.warning("cannot prestart Ray workers with this Ray version", exc_info=True)
        return 0
    requested = 0
    for node in ray.nodes():
        count = int(node.get("Resources", {}).get("CPU", 0))
        if total is not None:
            count = min(count, total - requested)
        if not node.get("Alive") or count < 1:
            continue
        address = f"{node['NodeManagerAddress']}:{node['NodeManagerPort']}"
        request.num_workers = count
        try:
            _send(address, request)
        except Exception as exc:
            _log.warning("prestarting %d Ray workers on %s failed: %s", count, address, exc)
            continue
        requested += count
    return requested


def _request(keep_alive_s: float) -> Any:
    """The raylet request for this driver's job and its trials' runtime environment."""
    from ray.core.generated import common_pb2, node_manager_pb2

    job = ray._private.worker.global_worker.core_worker.get_job_config().runtime_env_info
    request = node_manager_pb2.PrestartWorkersRequest(
        language=common_pb2.PYTHON,
        job_id=bytes.fromhex(ray.get_runtime_context().get_job_id()),
        keep_alive_duration_secs=max(1, int(keep_alive_s)),
    )
    request.runtime_env_info.CopyFrom(job)
    request.runtime_env_info.serialized_runtime_env = trial_runtime_env(
        job.serialized_runtime_env)
    return request


def trial_runtime_env(serialized_job_env: str) -> str:
    """The runtime environment a Tune trial actor of the job gets, as Ray serializes it.

    A raylet hands an idle worker to an actor only if their serialized runtime
    environments are equal. Tune gives its trial actors environment variables of its own
    (``ray.tune.execution.class_cache``), which Ray's core worker merges into the job's
    runtime environment (``env_vars`` merged, the actor's win) and dumps as compact JSON
    with sorted keys (nlohmann::json).
    """
    from ray.tune.execution.class_cache import DEFAULT_ENV_VARS, ENV_VARS_TO_PROPAGATE

    env = json.loads(serialized_job_env or "{}")
    tune_vars = {**DEFAULT_ENV_VARS,
                 **{k: os.environ[k] for k in ENV_VARS_TO_PROPAGATE if k in os.environ}}
    env["env_vars"] = {**env.get("env_vars", {}), **tune_vars}
    return json.dumps(env, sort_keys=True, separators=(",", ":"))


def _send(address: str, request: Any) -> None:
    """One ``PrestartWorkers`` call to the raylet at ``address`` (private API)."""
    from ray._private.grpc_utils import init_grpc_channel
    from ray.core.generated import node_manager_pb2_grpc

    channel = init_grpc_channel(address)
    try:
        node_manager_pb2_grpc.NodeManagerServiceStub(channel).PrestartWorkers(
            request, timeout=10
        )
    finally:
        channel.close()
