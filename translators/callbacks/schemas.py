"""The fields each platform's events define, by event type, and their JSON types.

v2: the field matrix of shared/spec/bxml-v2.md §3.2 (``text`` on gather: the speech result
Bandwidth's migration tool reads; unconfirmed, accepted as optional).  v1: shared/spec/
catapult-v1.md §5.  Fields outside these sets are "unknown": kept when the target is v2
(v2 parsers must ignore unknown keys), dropped when it is v1 or Twilio.
"""

from __future__ import annotations

TEXT, OBJECT, ANY = "text", "object", "any"

_V2_COMMON = {name: TEXT for name in (
    "eventType", "eventTime", "accountId", "applicationId", "from", "to", "direction", "callId", "callUrl",
    "startTime")}
_V2_LEG = {name: TEXT for name in ("parentCallId", "transferCallerId", "transferTo")}

V2_EVENT_FIELDS: dict[str, dict[str, str]] = {
    "initiate": {**_V2_COMMON, "diversion": OBJECT, "stirShaken": OBJECT, "uui": TEXT, "sipCallId": TEXT,
                 "sipHeaders": ANY},
    "answer": {**_V2_COMMON, "enqueuedTime": TEXT, "answerTime": TEXT, "tag": TEXT,
               "machineDetectionResult": OBJECT, "sipCallId": TEXT},
    "gather": {**_V2_COMMON, **_V2_LEG, "enqueuedTime": TEXT, "answerTime": TEXT, "tag": TEXT, "digits": TEXT,
               "terminatingDigit": TEXT, "text": TEXT},
    "dtmf": {**_V2_COMMON, **_V2_LEG, "enqueuedTime": TEXT, "answerTime": TEXT, "tag": TEXT, "digit": TEXT},
    "disconnect": {**_V2_COMMON, "enqueuedTime": TEXT, "answerTime": TEXT, "endTime": TEXT, "tag": TEXT,
                   "cause": TEXT, "errorMessage": TEXT, "errorId": TEXT, "sipCallId": TEXT,
                   "sipResponseCode": ANY},
}

# Call-level v2 fields a replayed v1 event cannot supply (the caller passes them as ``call``).
V2_CALL_FIELDS: tuple[str, ...] = (
    "accountId", "applicationId", "from", "to", "direction", "callUrl", "parentCallId", "enqueuedTime",
    "startTime", "answerTime", "transferCallerId", "transferTo")

V1_EVENT_FIELDS: dict[str, dict[str, str]] = {
    "gather": {name: TEXT for name in (
        "eventType", "state", "digits", "reason", "callId", "callUri", "gatherId", "time", "tag",
        "terminatingDigit")},
    "dtmf": {name: TEXT for name in (
        "eventType", "callId", "callUri", "dtmfDigit", "dtmfDuration", "time", "tag")},
}
