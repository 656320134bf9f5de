"""Settings of a ``BandwidthSimulator``.

Durations named "call time" are simulated seconds, multiplied by ``time_scale`` to get real time
(``time_scale=0.01`` runs a call 100x faster: a 5 s ``firstDigitTimeout`` takes 50 ms).
``callback_timeout`` is real time: how long a webhook receiver may take to answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from adapter.simulator.bxml import Verb


@dataclass(frozen=True)
class SimulatorConfig:
    # Account and REST API
    account_id: str = "9900000"
    username: str = "sim-user"                 # REST API Basic credentials
    password: str = "sim-password"
    application_id: str = "7fc9698a-b04a-468b-9e8f-91238c0d0086"
    host: str = "127.0.0.1"
    port: int = 0                               # 0 = a free port
    base_path: str = "/api/v2"                  # api_url = http://host:port + base_path
    # Application callback credentials (initiate/disconnect of inbound calls, §4)
    callback_username: str | None = None
    callback_password: str | None = None
    # Also present them on verb and create-call URLs that carry no username/password of their own
    # (not documented Bandwidth behaviour; off by default).
    app_credentials_for_all_callbacks: bool = False
    # Timing
    time_scale: float = 1.0                     # real seconds per call-time second (0 = no waiting)
    callback_timeout: float = 15.0              # real seconds; create-call callbackTimeout overrides
    key_gap: float = 0.5                        # call time between scripted keys
    speech_seconds_per_char: float = 0.06       # <SpeakSentence> lasts len(words) x this + its breaks
    min_speech_seconds: float = 0.5
    play_audio_seconds: float = 2.0             # every <PlayAudio> file lasts this long
    prompt_duration: Callable[[Verb], float] | None = None  # overrides the two rules above
    record_seconds: float = 3.0                 # the caller talks this long into <Record>
    transfer_seconds: float = 1.0               # a simulated <Transfer> B-leg lasts this long
    transfer_cause: str = "hangup"              # cause reported in transferComplete
    # REST behaviour
    ended_call_conflict_seconds: float = 30.0   # modifying a call this soon after its end -> 409, later 404
    # An update/PUT for a not-yet-answered call waits (real seconds, at most) while the call is in a
    # webhook exchange, so it is judged on the state the reply puts the call in; then 409 if unanswered.
    settle_timeout: float = 2.0
    max_request_bytes: int = 1024 * 1024
    put_accepts_response_root: bool = False     # undocumented whether PUT .../bxml takes <Response>
    require_https_with_credentials: bool = False  # createCall with username/password needs https (§1)

    def prompt_seconds(self, verb: Verb) -> float:
        """Call time a nested or top-level ``<SpeakSentence>`` / ``<PlayAudio>`` takes to play."""
        if self.prompt_duration is not None:
            return max(0.0, float(self.prompt_duration(verb)))
        if verb.name == "PlayAudio":
            return self.play_audio_seconds
        words = len(verb.text) * self.speech_seconds_per_char
        if not verb.text:
            return verb.break_seconds
        return max(self.min_speech_seconds, words) + verb.break_seconds
