FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg libchromaprint-tools curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY api api
COPY core core
COPY workers workers
COPY fraud fraud
COPY uploads uploads
COPY migrations migrations
COPY ovation ovation
RUN pip install --no-cache-dir . && useradd --system --create-home ovation && mkdir -p /data && chown ovation /data
USER ovation
ENV OVATION_DATA_DIR=/data OVATION_HOST=0.0.0.0
EXPOSE 8000
CMD ["ovation", "api"]
