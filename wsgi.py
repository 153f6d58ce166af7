"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`. Migrations run apart, before
(`flask --app cooperative db upgrade`), so the serving app goes without them."""

from cooperative import create_app

app = create_app(migrations=False)
