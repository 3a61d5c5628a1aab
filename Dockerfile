# syntax=docker/dockerfile:1.7
# One image for every role of dynas_service: the REST API, the Ray head, Ray workers and
# the MLflow tracking server (the entrypoint picks the role: see deploy/docker/entrypoint.sh).
#
#   docker build -t dynas-service:latest .                                  # CPU (default)
#   docker build --build-arg TORCH_INDEX=cu128 -t dynas-service:cuda .      # CUDA 12.8 wheels
#
# TORCH_INDEX names a PyTorch wheel index (cpu, cu126, cu128, ...; pick one the index lists
# for TORCH_VERSION). CUDA wheels bundle the CUDA runtime; the host only needs the NVIDIA
# driver and the NVIDIA container toolkit. Layers: system packages, then the Python
# dependencies read from pyproject.toml, then the code, so a code change rebuilds in seconds.

ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim-bookworm

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX=cpu
ARG DYNAS_UID=1000
ARG DYNAS_GID=1000

# Packages go into the image's own Python (/usr/local), not a venv: KubeRay starts Ray
# through `bash -l`, whose /etc/profile resets PATH, and /usr/local/bin survives that.
ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    OMP_NUM_THREADS=1 \
    RAY_USAGE_STATS_ENABLED=0 \
    MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false \
    DYNAS_DATA_DIR=/data \
    DYNAS_HOST=0.0.0.0 \
    DYNAS_PORT=8000

# tini reaps the orphans of job runners and Ray workers (the API is not an init system).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid "${DYNAS_GID}" dynas \
 && useradd --uid "${DYNAS_UID}" --gid "${DYNAS_GID}" --create-home --shell /bin/bash dynas \
 && mkdir -p /data /mlartifacts \
 && chown dynas:dynas /data /mlartifacts

# --- dependency layer: changes only when pyproject.toml (or the torch build) changes ---
COPY pyproject.toml /build/pyproject.toml
COPY deploy/docker/requirements.py /build/requirements.py
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install "pip>=24" "setuptools>=69" "wheel>=0.43" \
 && pip install "torch==${TORCH_VERSION}" --index-url "https://download.pytorch.org/whl/${TORCH_INDEX}" \
 && python /build/requirements.py /build/pyproject.toml --extra postgres --ray-extra default \
      > /build/requirements.txt \
 && pip install -r /build/requirements.txt

COPY --chmod=755 deploy/docker/entrypoint.sh /usr/local/bin/dynas-entrypoint

# --- code layer: seconds to rebuild ---
COPY README.md /build/README.md
COPY dynas_service /build/dynas_service
RUN pip install --no-deps --no-build-isolation --no-cache-dir /build \
 && python -c "import dynas_service"

USER ${DYNAS_UID}:${DYNAS_GID}
WORKDIR /home/dynas
EXPOSE 8000 6379 8265 5000
HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=5 \
  CMD ["dynas-entrypoint", "healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--", "dynas-entrypoint"]
CMD ["api"]
