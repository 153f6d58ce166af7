"""The ceiling: a one-line Flask app served by the same gunicorn settings as the site."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """Hello, and nothing else."""
    return "Hello"
