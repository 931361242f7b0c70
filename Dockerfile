# One image for web, worker and beat (docker-compose.yml). The services run the
# repo's bin/ scripts, the same ones `make test` runs natively.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements/base.txt requirements/base.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/base.txt
COPY . .
# Compiled translations and static files belong to the image: web and worker containers
# do not share the release container's filesystem (.mo files are not committed, and
# whitenoise's manifest must be there when gunicorn starts). The user has a home: gunicorn keeps
# its control socket in ~/.gunicorn (without it: "Control server error: Permission denied").
RUN python -m ccass_portal.translations \
 && DJANGO_SECRET_KEY=image-build-only-not-a-secret python manage.py collectstatic --noinput -v0 \
 && useradd --uid 10001 --create-home --shell /usr/sbin/nologin portal && mkdir -p var && chown -R portal var
USER portal
EXPOSE 8000
CMD ["bin/web"]
