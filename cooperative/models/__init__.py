"""The domain model. Importing this package registers every table with the metadata."""

from .accounts import User, new_session_key, normalise_email
from .collectives import (
    Collective,
    CollectiveRole,
    CollectiveSuggestion,
    Domain,
    SuggestionStatus,
)
from .events import (
    DIETS,
    HOLDING,
    Attendee,
    CheckInRecord,
    Event,
    EventStatus,
    MealOption,
    PaymentMode,
    PaymentState,
    Registration,
    RegistrationStatus,
)
from .membership import (
    LeavingWay,
    Membership,
    MembershipPlan,
    MembershipStatus,
    PlanPeriod,
    Profile,
    Visibility,
)
from .outbox import OutboxMessage, OutboxStatus
from .pages import PageVersion
from .payments import (
    Payment,
    PaymentProvider,
    PaymentStatus,
    StripeCall,
    StripeCallKind,
    StripeCallStatus,
    StripeEvent,
)
from .security import AuditEntry, RecoveryCode, TwoFactor
from .sepa import (  # issue 15: dues by SEPA direct debit
    Collection,
    CollectionRun,
    CollectionStatus,
    MandateKind,
    MandateStatus,
    SepaMandate,
)
from .types import utcnow

__all__ = [
    "DIETS",
    "HOLDING",
    "Attendee",
    "AuditEntry",
    "CheckInRecord",
    "Collective",
    "CollectiveRole",
    "CollectiveSuggestion",
    "Collection",
    "CollectionRun",
    "CollectionStatus",
    "Domain",
    "Event",
    "EventStatus",
    "LeavingWay",
    "MealOption",
    "MandateKind",
    "MandateStatus",
    "Membership",
    "MembershipPlan",
    "MembershipStatus",
    "OutboxMessage",
    "OutboxStatus",
    "PageVersion",
    "Payment",
    "PaymentMode",
    "PaymentProvider",
    "PaymentState",
    "PaymentStatus",
    "PlanPeriod",
    "Profile",
    "RecoveryCode",
    "Registration",
    "RegistrationStatus",
    "SepaMandate",
    "StripeCall",
    "StripeCallKind",
    "StripeCallStatus",
    "StripeEvent",
    "SuggestionStatus",
    "TwoFactor",
    "User",
    "Visibility",
    "new_session_key",
    "normalise_email",
    "utcnow",
]
