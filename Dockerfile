# silkqa service image: CPU-only torch, the bundled corpus indexed at build time,
# runs as a non-root user on port 8000.

# ---- build stage: dependencies and the index ---------------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# CPU wheel of torch first, so sentence-transformers does not pull the CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml README.md ./
COPY index ./index
COPY service ./service
COPY eval ./eval
RUN pip install .
COPY corpus ./corpus
ENV SILKQA_CORPUS_DIR=/app/corpus SILKQA_INDEX_DIR=/data/index
RUN silkqa index

# ---- runtime stage --------------------------------------------------------------
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SILKQA_CORPUS_DIR=/app/corpus \
    SILKQA_INDEX_DIR=/data/index \
    SILKQA_HOST=0.0.0.0 \
    SILKQA_PORT=8000
RUN useradd --system --uid 10001 --home-dir /app silkqa
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app/corpus /app/corpus
COPY --from=build --chown=silkqa:silkqa /data /data
WORKDIR /app
USER silkqa
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]
CMD ["silkqa", "serve"]
