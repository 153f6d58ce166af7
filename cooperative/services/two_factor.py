"""Two-factor log-in: a time-based code from an authenticator app (TOTP, RFC 6238, with
pyotp), or one of ten single-use recovery codes.

A code is accepted for the time step before, at and after now (clocks drift), and never
twice: the step of the last accepted code is kept, and only a later one counts (one
conditional UPDATE, so two requests with the same code cannot both pass).
"""

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import RecoveryCode, TwoFactor, User, utcnow

ISSUER = "MeentCoop"
RECOVERY_CODE_COUNT = 10
# Ten characters from an alphabet without look-alikes (no 0/O, 1/I/L): 50 bits each.
RECOVERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECOVERY_LENGTH = 10


def of(user: User) -> TwoFactor | None:
    """The person's authenticator, confirmed or pending; None when there is none."""
    return db.session.get(TwoFactor, user.id)


def is_enabled(user: User) -> bool:
    """Whether logging in as `user` needs a second step."""
    found = of(user)
    return found is not None and found.enabled


def required_for(user: User) -> bool:
    """Whether `user` must set up two-factor log-in before using the admin pages."""
    return bool(current_app.config.get("REQUIRE_ADMIN_2FA")) and user.is_admin


def start(user: User) -> TwoFactor:
    """Make a new secret for `user` to add to their app, pending until a first code
    confirms it (a pending one is replaced). Refuses (ValueError) when it is already on."""
    found = of(user)
    if found is not None and found.enabled:
        raise ValueError("two-factor log-in is already on")
    if found is None:
        found = TwoFactor(user_id=user.id)
        db.session.add(found)
    found.secret = pyotp.random_base32()
    found.last_step = None
    found.created_at = utcnow()
    db.session.flush()
    return found


def provisioning_uri(found: TwoFactor, user: User) -> str:
    """The `otpauth://` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(found.secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _normalise(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum()).upper()


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (one before, now, one after) whose code is `code`, or None."""
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for candidate in (step, step - 1, step + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def _use_step(found: TwoFactor, step: int) -> bool:
    """Mark `step` used, only when it is later than the last one used; whether it was."""
    result = db.session.execute(
        sa.update(TwoFactor)
        .where(
            TwoFactor.user_id == found.user_id,
            sa.or_(TwoFactor.last_step.is_(None), TwoFactor.last_step < step),
        )
        .values(last_step=step),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        return False
    found.last_step = step
    return True


def check_app_code(found: TwoFactor, code: str, now: datetime | None = None) -> bool:
    """Whether `code` is the app's code for now and was not used before (it is used up
    now). Refuses a code of a time step at or before the last one used."""
    step = _matching_step(found.secret, _normalise(code), now or utcnow())
    return step is not None and _use_step(found, step)


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def use_recovery_code(found: TwoFactor, code: str, now: datetime | None = None) -> bool:
    """Whether `code` is one of the person's unused recovery codes (it is used up now).
    Refuses a used one."""
    if len(_normalise(code)) != RECOVERY_LENGTH:
        return False
    result = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == found.user_id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now or utcnow()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount == 1


def check_code(found: TwoFactor, code: str, now: datetime | None = None) -> bool:
    """An app code or, failing that, a recovery code (either is used up when it works)."""
    return check_app_code(found, code, now) or use_recovery_code(found, code, now)


def new_recovery_codes(found: TwoFactor) -> list[str]:
    """Replace the person's recovery codes with ten new ones; return them (shown once,
    kept only hashed), formatted `XXXXX-XXXXX`."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == found.user_id))
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    db.session.add_all(RecoveryCode(user_id=found.user_id, code_hash=_hash(c)) for c in codes)
    db.session.flush()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def confirm(found: TwoFactor, code: str, now: datetime | None = None) -> list[str] | None:
    """Turn two-factor log-in on with the first code from the app; return the recovery
    codes, or None when the code is not right (nothing changes then)."""
    now = now or utcnow()
    if found.enabled or not check_app_code(found, code, now):
        return None
    found.confirmed_at = now
    return new_recovery_codes(found)


def unused_recovery_codes(found: TwoFactor) -> int:
    """How many recovery codes are left."""
    return db.session.scalar(
        sa.select(sa.func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == found.user_id, RecoveryCode.used_at.is_(None)
        )
    )


def proven(user: User, found: TwoFactor, proof: str, now: datetime | None = None) -> bool:
    """Whether `proof` is the person's password, an app code or a recovery code (a code is
    used up)."""
    return user.check_password(proof) or check_code(found, proof, now)


def disable(user: User, proof: str, now: datetime | None = None) -> bool:
    """Turn two-factor log-in off, proven by the password, an app code or a recovery code;
    whether it was. Refuses any other proof (nothing changes)."""
    found = of(user)
    if found is None:
        return False
    if not proven(user, found, proof, now):
        return False
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == found.user_id))
    db.session.expire(found, ["recovery_codes"])
    db.session.delete(found)
    db.session.flush()
    return True
