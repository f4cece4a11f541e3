# memeloop: CPU-only image. Build: docker build -t memeloop .
# Run:   docker run -d -v memeloop-data:/data -e MEMELOOP_X_API_KEY=... memeloop
# The config is /data/config.toml (mount your own, or let the entrypoint write the example there).
FROM python:3.11-slim-bookworm

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    MEMELOOP_CONFIG=/data/config.toml

# 1. the virtual environment and torch, pinned to the CPU wheel (a looser spec pulls a multi-GB
#    CUDA build); this layer changes only when the torch pin does
RUN python -m venv /opt/venv \
 && /opt/venv/bin/python -m pip install --upgrade "pip>=24" \
 && /opt/venv/bin/python -m pip install --index-url "$TORCH_INDEX_URL" torch==2.13.0

# 2. the exact locked dependencies; changes only when requirements.lock does
COPY requirements.lock /tmp/requirements.lock
RUN grep -v '^torch==' /tmp/requirements.lock > /tmp/requirements.notorch \
 && /opt/venv/bin/python -m pip install -r /tmp/requirements.notorch

# 3. the project itself (code + shipped demo models), without touching the dependencies
COPY . /app
RUN /opt/venv/bin/python -m pip install --no-deps --no-build-isolation /app \
 && useradd --create-home --uid 10001 memeloop \
 && mkdir -p /data && chown memeloop:memeloop /data

USER memeloop
WORKDIR /data
VOLUME ["/data"]

HEALTHCHECK --interval=60s --timeout=20s --start-period=120s --retries=3 \
  CMD ["memeloop", "status", "--healthcheck"]

ENTRYPOINT ["/app/bot/docker-entrypoint.sh"]
CMD ["memeloop", "run"]
