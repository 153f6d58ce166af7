"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from cooperative import create_app

app = create_app()
