"""The one-click unsubscribe of every announcement (RFC 8058), without logging in.

`/news/unsubscribe/<token>`: a GET (someone clicked the link in the mail, or a scanner
looked at it) only asks, with one button; a POST stops the news. A mail client's
one-click POST (`List-Unsubscribe=One-Click` in its body) comes from elsewhere without
a session, so this one route takes POSTs without a CSRF token and from any origin: the
signed token in its address is the key (services/unsubscribe.py). A changed or unknown
link answers 404, an expired one 410, each with a page that says what to do instead.
"""

from flask import Blueprint, render_template, request

from ..extensions import csrf, db
from ..security import any_origin
from ..services import unsubscribe as unsubscribing

bp = Blueprint("news", __name__, url_prefix="/news")


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
@any_origin
def unsubscribe(token: str):
    """Ask (GET), or stop the news the link is for (POST); twice is harmless."""
    try:
        if request.method == "GET":
            subscription = unsubscribing.subscription_for(token)
            return render_template("news/unsubscribe.html", subscription=subscription, token=token)
        subscription = unsubscribing.unsubscribe(token)
    except unsubscribing.LinkExpired:
        return render_template("news/link_broken.html", expired=True), 410
    except unsubscribing.LinkBroken:
        return render_template("news/link_broken.html", expired=False), 404
    db.session.commit()
    return render_template("news/unsubscribed.html", subscription=subscription)
