# DTM Geo API. Needs a PostGIS database (DATABASE_URL) and the source data mounted at /data.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 PORT=8000 DATA_DIR=/data

# Pango (HarfBuzz shaping) and fonts for WeasyPrint's round reports and print maps.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       fonts-noto-core fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/dtm-geo
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY data ./data
RUN pip install --no-cache-dir . \
    && useradd --system --home /srv/dtm-geo dtmgeo
USER dtmgeo

EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
# Migrate, load the default data (idempotent), then serve.
CMD ["dtm-geo", "run"]
