# syntax=docker/dockerfile:1
# The project image: code server, webserver and daemon all run from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DO_NOT_TRACK=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    TRADING_DATA_DIR=/opt/dagster/data

RUN useradd --create-home --uid 1000 dagster
WORKDIR /opt/dagster/app

# Dependencies first, from pyproject.toml alone, so code changes do not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Editable install: the package finds dbt_project/ next to itself (DBT_PROJECT_DIR is three levels
# above defs/analytics/assets.py), so it stays in /opt/dagster/app instead of site-packages.
COPY README.md ./
COPY trading_pipeline ./trading_pipeline
RUN pip install --no-deps -e .

# The dbt manifest is parsed on first import into the data volume (<data_dir>/dbt, ~5 s once per change
# of the models), never into the source tree.
COPY dbt_project ./dbt_project
COPY docker ./docker
RUN mkdir -p "$DAGSTER_HOME" /opt/dagster/storage /opt/dagster/data \
    && cp docker/dagster.yaml "$DAGSTER_HOME/dagster.yaml" \
    && chown -R dagster:dagster /opt/dagster

USER dagster
EXPOSE 3000 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "trading_pipeline.definitions"]
