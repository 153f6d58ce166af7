"""The organisers' back office: their collectives' events."""

from flask import Blueprint

bp = Blueprint("manage", __name__, url_prefix="/manage")
