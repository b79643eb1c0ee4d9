# mini-apiserver in a container: `docker build -t mini-apiserver . && docker run -p 8080:8080 mini-apiserver`
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Installed the same way as the README's "Run the server" (tests/test_packaging.py checks).
WORKDIR /src
COPY . .
RUN pip install .

RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /data app \
    && mkdir /data && chown app:app /data
USER app

# The default database, sqlite:///mini-apiserver.db, is relative to the working directory: the volume.
VOLUME /data
WORKDIR /data
EXPOSE 8080
CMD ["mini-apiserver", "serve", "--host", "0.0.0.0"]
