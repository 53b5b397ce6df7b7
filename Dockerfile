# silkqa service image: CPU-only torch, the bundled corpus indexed at build time,
# code read-only and owned by root, the service running as an unprivileged user
# with its data (the index) on a volume, configured by SILKQA_* variables.
#
#   docker build -t silkqa .
#   docker run -p 8000:8000 -e SILKQA_API_KEYS_FILE=/run/secrets/keys -v silkqa-data:/data silkqa
#
# Only /data and /tmp are written, so --read-only --tmpfs /tmp should work too.
# tests/system/server/test_entrypoint.py runs this file's build-stage index
# command and its CMD and HEALTHCHECK with this environment outside Docker, and
# lints it with hadolint.

# ---- build stage: dependencies, the code, the index ----------------------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH
# The CPU wheel of torch first, so sentence-transformers does not pull the CUDA build.
RUN python -m venv /opt/venv \
    && pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
WORKDIR /src
COPY pyproject.toml README.md ./
COPY index ./index
COPY service ./service
COPY eval ./eval
COPY prompts ./prompts
COPY corpus ./corpus
# A plain (non-editable) install: the code, the prompts, the web page and the
# bundled corpus all become package data of `silkqa` in the virtualenv, which
# the runtime stage copies as root-owned, read-only files.
RUN pip install . && python -m compileall -q /opt/venv/lib/python3.11/site-packages/silkqa
ENV SILKQA_INDEX_DIR=/data/index
WORKDIR /data
RUN silkqa index

# ---- runtime stage ----------------------------------------------------------------
FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    SILKQA_INDEX_DIR=/data/index \
    SILKQA_LLM_MODEL_DIR=/data/models \
    SILKQA_HOST=0.0.0.0 \
    SILKQA_PORT=8000
RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin silkqa
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=10001:10001 /data /data
WORKDIR /data
# Numeric, so an orchestrator can verify it is not root (runAsNonRoot).
USER 10001:10001
# A fresh named volume starts with the index built above; an empty bind mount
# gets one built at start-up.
VOLUME ["/data"]
EXPOSE 8000
# silkqa serve drains requests in flight on SIGTERM (SILKQA_SHUTDOWN_GRACE_SECONDS).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('SILKQA_PORT', '8000'), timeout=4)"]
CMD ["silkqa", "serve"]
