"""Calendar files read as a calendar app that trusts the file's own VTIMEZONE reads them
(icalendar's parser takes a TZID's offsets from the zone database instead)."""

from datetime import datetime, timedelta

from icalendar import Calendar


def zone_onsets(calendar: Calendar) -> list[tuple[datetime, timedelta]]:
    """When each observance of the file's one VTIMEZONE begins (local wall-clock time, as
    written) and the UTC offset it gives, in order."""
    [zone] = calendar.walk("VTIMEZONE")
    onsets = []
    for part in zone.subcomponents:
        rdates = part.get("RDATE", [])
        moments = [part.decoded("DTSTART")] + [
            moment.dt
            for rdate in (rdates if isinstance(rdates, list) else [rdates])
            for moment in rdate.dts
        ]
        onsets.extend((moment, part["TZOFFSETTO"].td) for moment in moments)
    return sorted(onsets)


def offset_in_file(calendar: Calendar, moment: datetime) -> timedelta:
    """The UTC offset the file's VTIMEZONE gives the local time `moment`: that of the
    last observance begun by then. Fails where the zone in the file begins after it."""
    begun = [
        offset for onset, offset in zone_onsets(calendar) if onset <= moment.replace(tzinfo=None)
    ]
    assert begun, f"the calendar file's time zone begins after {moment}"
    return begun[-1]
