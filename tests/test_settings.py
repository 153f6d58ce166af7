"""Settings read from the environment: where e-mailed links point."""

import pytest

from cooperative import create_app


@pytest.fixture
def no_address_settings(monkeypatch):
    for name in ("BASE_URL", "FLASK_RUN_HOST", "FLASK_RUN_PORT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        (None, None, "http://127.0.0.1:5000"),
        (None, "5001", "http://127.0.0.1:5001"),
        ("192.168.1.20", "8080", "http://192.168.1.20:8080"),
        ("0.0.0.0", "5001", "http://127.0.0.1:5001"),  # noqa: S104
        ("::1", "5002", "http://[::1]:5002"),
    ],
)
def test_links_follow_the_port_make_run_serves(
    no_address_settings, database_url, host, port, expected
):
    if host:
        no_address_settings.setenv("FLASK_RUN_HOST", host)
    if port:
        no_address_settings.setenv("FLASK_RUN_PORT", port)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["BASE_URL"] == expected
    described = app.test_client().get("/api/v1/openapi.json")
    assert described.get_json()["servers"] == [{"url": expected}]


def test_a_set_base_url_wins_over_the_port(no_address_settings, database_url):
    no_address_settings.setenv("FLASK_RUN_PORT", "5001")
    no_address_settings.setenv("BASE_URL", "https://meentcoop.example/")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["BASE_URL"] == "https://meentcoop.example"
