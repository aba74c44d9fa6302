"""The mutation gate's catalogue: deliberate rule-breaking patches the safety tests must kill.

`scripts/mutants` copies `custom_components/`, `tests/` and `pyproject.toml` to a temporary
folder, applies ONE mutant there (the shipped code is never touched and has no switches for
this), runs the mutant's `tests` with `-x` and a timeout, and restores the file before the
next mutant. A mutant is KILLED when the tests fail (or time out), SURVIVED when they pass.
Every mutant must be killed; a surviving mutant means a safety rule is not really tested.

Adding a mutant: append one `Mutant(...)` to `MUTANTS` below, then check it alone with
`scripts/mutants --only <id>`.

    Mutant(
        id="M06-engine-...",        # unique; "M" + number + what breaks, or "F<finding>-..."
        rule="7",                   # the safety rule it breaks (README, "Safety rules"; 1-11)
        finding=None,               # the review finding it re-creates, if any (an int)
        file="custom_components/treadreverse/programme/engine.py",   # relative to the repo
        find="...",                 # exact source text; must occur EXACTLY once in `file`
        replace="...",              # what it becomes in the mutant
        tests=["tests/programme/test_engine.py::test_x"],   # pytest arguments, see below
        why="one line: what a user would suffer if this shipped",
    )

- `find` is matched verbatim (indentation and newlines included). When it occurs 0 or 2+
  times the tool reports the mutant as STALE and fails: edit the entry together with the
  code it mutates, so the catalogue always stays in step. Widen `find` with a neighbouring
  line to make it unique.
- `replace` must still be valid Python; prefer the smallest change that breaks the rule
  (drop a call, invert or weaken a condition, raise a limit).
- `tests` are passed to pytest as they are: node ids (`tests/x.py::test_y`), files,
  folders, and options such as `"-k", "cap and not ramp"` (two list items). Name the
  targeted tests, not the whole suite: each mutant reruns them, and `-x` stops at the
  first failure. The tool first runs every mutant's tests on the UNMUTATED copy; they
  must pass there, or nothing is proven.
- Every finding of issue 9 has at least one `F<finding>-...` entry, re-creating that bug
  in today's code; M06-M13 are the eight mutants that survived the first properties.
- A held-out catalogue is any Python file defining `MUTANTS` the same way (entries may be
  `Mutant`s or plain dicts with these keys): `scripts/mutants --catalogue FILE`.
"""

# Source lines are matched verbatim, so some are longer than the line limit.
# ruff: noqa: E501

from __future__ import annotations

from dataclasses import dataclass, field

_PROGRAMME = "custom_components/treadreverse/programme"
_TREADMILL = "custom_components/treadreverse/treadmill"


@dataclass(frozen=True)
class Mutant:
    """One deliberate rule-breaking patch and the tests that must catch it."""

    id: str
    rule: str
    file: str
    find: str
    replace: str
    tests: list[str] = field(default_factory=list)
    why: str = ""
    finding: int | None = None


_ENGINE = f"{_PROGRAMME}/engine.py"
_PHASES = f"{_PROGRAMME}/phases.py"
_TURNS = f"{_PROGRAMME}/turns.py"
_COMMANDS = f"{_PROGRAMME}/commands.py"
_MACHINE = f"{_PROGRAMME}/machine.py"
_ACCOUNTING = f"{_PROGRAMME}/accounting.py"
_INTERLOCK = f"{_PROGRAMME}/interlock.py"
_COMPILER = f"{_PROGRAMME}/compiler.py"
_CLIENT = f"{_TREADMILL}/client.py"

# Test modules, so entries stay short (node ids: FIND + "test_...").
FIND = "tests/programme/test_findings.py::"
ENGINE = "tests/programme/test_engine.py::"
CONTROL = "tests/treadmill/test_control.py::"
CLIENT = "tests/treadmill/test_client.py::"
COMPILER = "tests/programme/test_compiler.py::"
RULES = "tests/programme/test_compiler_rules.py::"
STAGGER = "tests/programme/test_compiler_stagger.py::"


MUTANTS: list[Mutant] = [
    # ----- seeds ------------------------------------------------------------------------
    Mutant(
        id="M01-client-stop-keeps-queue",
        rule="7",
        file=_CLIENT,
        find=(
            "        self._stop_epoch += 1\n        self._drop_queue(CommandFailure.SUPERSEDED)\n"
        ),
        replace="        self._stop_epoch += 1\n",
        tests=[f"{CLIENT}test_stop_jumps_a_stuck_queue"],
        why="a speed or start queued before a stop would still wait to run after it",
    ),
    Mutant(
        id="M02-compiler-backward-cap-not-checked",
        rule="3",
        file=_COMPILER,
        find="if direction is not SegmentDirection.FORWARD and speed > self.cap + _EPS:",
        replace="if False:  # mutant: no backward cap check",
        tests=[f"{COMPILER}test_backward_cap_refused_never_clipped"],
        why="a programme above max_backward_speed would be clipped silently instead of refused",
    ),
    Mutant(
        id="M03-compiler-cap-ignores-machine-max",
        rule="3",
        file=_COMPILER,
        find="    return min(options.max_backward_speed, machine)\n",
        replace="    return options.max_backward_speed\n",
        tests=[f"{COMPILER}test_machine_max_lowers_the_cap"],
        why="on a slow machine the backward cap would be above what the machine can do",
    ),
    Mutant(
        id="M04-compiler-incline-raise-not-clear-of-speed-raises",
        rule="4",
        file=_COMPILER,
        find="                offset = _clear_of(offset, raises)\n",
        replace="                pass  # mutant: an incline raise may land on a speed raise\n",
        tests=[f"{COMPILER}test_raises_are_staggered"],
        why="speed and incline would rise in the same step at a segment change",
    ),
    Mutant(
        id="M05-schema-half-squat-90s",
        rule="5",
        file=f"{_PROGRAMME}/schema.py",
        find="HALF_SQUAT_MAX_S = 60.0",
        replace="HALF_SQUAT_MAX_S = 90.0",
        tests=["tests/programme/test_schema.py"],
        why="half-squat bouts longer than 60 s would be accepted",
    ),
    # ----- the twenty findings of issue 9, re-created in today's code --------------------
    Mutant(
        id="F01-final-stop-queued-behind-a-stuck-command",
        rule="7",
        finding=1,
        file=_ACCOUNTING,
        find=(
            "        advisory = self.advisory or not self.can_control\n"
            "        self._drop_commands()\n"
        ),
        replace="        advisory = self.advisory or not self.can_control\n",
        tests=[
            f"{FIND}test_finding_01_completion_stops_the_belt_before_the_release",
            f"{FIND}test_finding_01_completion_stop_is_written_at_once",
        ],
        why="the completion's stop waits behind a command whose reply is late: the belt runs on",
    ),
    Mutant(
        id="F02-client-stop-epoch-not-checked",
        rule="7",
        finding=2,
        file=_CLIENT,
        find=(
            "        if epoch.stops != self._stop_epoch or "
            "epoch.pauses not in (None, self._pause_epoch):\n"
        ),
        replace=(
            "        if epoch.pauses not in (None, self._pause_epoch):"
            "  # mutant: submitted before a stop, still written\n"
        ),
        tests=[f"{CONTROL}test_stop_while_requesting_control"],
        why="a start waiting for control is written after a stop: the belt runs",
    ),
    Mutant(
        id="F03-start-before-the-speed",
        rule="3",
        finding=3,
        file=_INTERLOCK,
        find=(
            "            self._check_epoch(Verb.SET_SPEED, epoch, halts)\n"
            "            await self._write_speed(speed)\n"
            "            self._check_epoch(Verb.START, epoch, halts)\n"
            "            self._raised[Verb.SET_SPEED] = self._clock.now()\n"
            "            self._running = True  # a start whose reply is lost may have started all the same\n"
            "            self._starts += 1\n"
            "            await self._treadmill.start()\n"
        ),
        replace=(
            "            self._check_epoch(Verb.START, epoch, halts)\n"
            "            self._raised[Verb.SET_SPEED] = self._clock.now()\n"
            "            self._running = True\n"
            "            self._starts += 1\n"
            "            await self._treadmill.start()  # mutant: START before the speed\n"
            "            await self._write_speed(speed)\n"
        ),
        tests=[f"{FIND}test_finding_03_backward_first_start_never_resumes_a_stored_target"],
        why="a backward restart resumes at the stored forward speed (6 km/h) first",
    ),
    Mutant(
        id="F04-console-stop-does-not-latch",
        rule="7",
        finding=4,
        file=_INTERLOCK,
        find=(
            "            # A stop on the console (or the key) latches like ours (finding 4).\n"
            "            self._note_stop()\n"
        ),
        replace="            pass  # mutant: a console stop is forgotten\n",
        tests=[f"{FIND}test_finding_04_console_stop_while_idle_latches"],
        why="a console stop while a start is prepared is ignored: the belt starts anyway",
    ),
    Mutant(
        id="F05-pause-keeps-the-stored-target-above-the-cap",
        rule="3",
        finding=5,
        file=_INTERLOCK,
        find=("        goal = lower_to\n        if self.capped:\n"),
        replace=(
            "        goal = lower_to\n"
            "        if False:  # mutant: the stored target stays above the cap\n"
        ),
        tests=[f"{FIND}test_finding_05_pause_turn_lowers_the_stored_target_before_pausing"],
        why="a console restart after a pause-mode turn runs backward at the forward speed",
    ),
    Mutant(
        id="F06-stop-ends-the-timeline-only-after-the-reply",
        rule="7",
        finding=6,
        file=_ENGINE,
        find=(
            "        # The timeline ends before we wait for the treadmill: nothing of it runs on.\n"
            "        if was_active:\n"
            "            self._finish(SessionOutcome.STOPPED, reason)\n"
            "        if not self._treadmill.capabilities.controllable:\n"
            "            if was_active:\n"
            "                self._emit(CueType.STOP_THE_BELT)  # the manual kind: the person stops it\n"
            "            return\n"
            "        try:\n"
            "            await self.interlock.stop(origin, capped=capped)\n"
        ),
        replace=(
            "        if not self._treadmill.capabilities.controllable:\n"
            "            if was_active:\n"
            "                self._finish(SessionOutcome.STOPPED, reason)\n"
            "                self._emit(CueType.STOP_THE_BELT)  # the manual kind: the person stops it\n"
            "            return\n"
            "        try:\n"
            "            try:  # mutant: the timeline runs on while the stop's reply is awaited\n"
            "                await self.interlock.stop(origin, capped=capped)\n"
            "            finally:\n"
            "                if was_active:\n"
            "                    self._finish(SessionOutcome.STOPPED, reason)\n"
        ),
        tests=[
            f"{FIND}test_finding_06_nothing_after_a_stop_while_its_reply_is_awaited",
            f"{FIND}test_finding_06_timeline_ends_before_the_stop_reply",
        ],
        why="the timeline runs on while the stop's reply is awaited: set_speed 5.0 after the stop",
    ),
    Mutant(
        id="F07-shutdown-pause-skipped-when-the-slow-down-fails",
        rule="11",
        finding=7,
        file=_INTERLOCK,
        find='                    _LOGGER.warning("Could not lower the speed before pausing: %s", err)\n',
        replace="                    raise  # mutant: no pause after a failed slow-down\n",
        tests=[f"{FIND}test_finding_07_shutdown_pauses_when_the_slow_down_fails"],
        why="unloading while the slow-down fails leaves the belt at 5 km/h",
    ),
    Mutant(
        id="F07-advisory-shutdown-not-told",
        rule="11",
        finding=7,
        file=_ENGINE,
        find="        self._emit(EventType.PROGRAMME_ABORTED, reason=reason, advisory=not commanded)\n",
        replace="        self._emit(EventType.PROGRAMME_ABORTED, reason=reason, advisory=False)\n",
        tests=[f"{FIND}test_finding_07_advisory_shutdown_tells_the_person_to_stop"],
        why="in advisory mode shutdown says the belt slows and pauses, and nothing happens",
    ),
    Mutant(
        id="F08-advisory-stop-not-sent",
        rule="7",
        finding=8,
        file=_ENGINE,
        find="        if not self._treadmill.capabilities.controllable:\n            if was_active:\n",
        replace=(
            "        if not self._treadmill.capabilities.controllable or self.advisory:\n"
            "            if was_active:\n"
        ),
        tests=[f"{FIND}test_finding_08_advisory_stop_is_sent_and_completion_says_stop"],
        why="advisory mode: stop sends nothing although a link exists",
    ),
    Mutant(
        id="F08-advisory-completion-not-stopped",
        rule="7",
        finding=8,
        file=_ACCOUNTING,
        find="        if self._treadmill.capabilities.controllable and self._treadmill.connected:\n",
        replace=(
            "        if self._treadmill.capabilities.controllable and self._treadmill.connected"
            " and not advisory:\n"
        ),
        tests=[f"{FIND}test_finding_08_completed_advisory_programme_stops_the_belt"],
        why="a completed advisory programme leaves the belt running",
    ),
    Mutant(
        id="F09-resumed-turn-not-slowed-again",
        rule="1",
        finding=9,
        file=_TURNS,
        find="        if not resumed or self._belt_may_move():\n",
        replace="        if not resumed:  # mutant: a resumed turn trusts the old slow-down\n",
        tests=[f"{FIND}test_finding_09_resume_in_a_turn_slows_the_belt_again"],
        why="the link dropped as a turn began: on resume the belt runs on at 6 km/h in the turn",
    ),
    Mutant(
        id="F10-wait-at-turn-said-while-the-belt-runs",
        rule="2",
        finding=10,
        file=_TURNS,
        find="        if moving and measured:\n",
        replace="        if False:  # mutant: said at once\n",
        tests=[f"{FIND}test_finding_10_wait_at_turn_cue_only_once_the_belt_rests"],
        why="'turn around' is said while the belt still runs at 6 km/h",
    ),
    Mutant(
        id="F11-about-backward-ignored",
        rule="3",
        finding=11,
        file=_INTERLOCK,
        find="        return self.about_backward or self.direction in (Direction.BACKWARD, Direction.TURNING)\n",
        replace="        return self.direction in (Direction.BACKWARD, Direction.TURNING)\n",
        tests=[f"{FIND}test_finding_11_set_speed_above_cap_refused_before_a_backward_start"],
        why="set_speed 6.0 accepted while a backward-first programme counts down",
    ),
    Mutant(
        id="F12-incline-rise-allowed-in-a-turn",
        rule="4",
        finding=12,
        file=_INTERLOCK,
        find="        if self.direction is Direction.TURNING:\n            refusal =",
        replace="        if self.direction is Direction.TURNING and verb is Verb.SET_SPEED:\n            refusal =",
        tests=[f"{FIND}test_finding_12_no_manual_raise_in_a_turn_nor_both_at_once"],
        why="a manual set_incline raises the incline while the person turns",
    ),
    Mutant(
        id="F12-incline-raise-not-staggered",
        rule="4",
        finding=12,
        file=_INTERLOCK,
        find="        wait = self.raise_wait(verb)\n        if wait > 0:\n            raise InterlockError(verb,",
        replace=(
            "        wait = self.raise_wait(verb) if verb is Verb.SET_SPEED else 0.0\n"
            "        if wait > 0:\n            raise InterlockError(verb,"
        ),
        tests=[f"{FIND}test_finding_12_no_manual_raise_in_a_turn_nor_both_at_once"],
        why="a manual incline raise goes out in the same instant as a speed raise",
    ),
    Mutant(
        id="F13-no-fresh-cue-after-a-pause",
        rule="2",
        finding=13,
        file=_PHASES,
        find="        if left < lead - 1e-6:\n            run.phase_start +=",
        replace="        if False:  # mutant\n            run.phase_start +=",
        tests=[f"{FIND}test_finding_13_turn_after_a_long_pause_is_announced_again"],
        why="after a 10-minute pause the turn follows 2 s later, its cue said 10 minutes ago",
    ),
    Mutant(
        id="F13-second-skip-pushes-an-announced-turn",
        rule="2",
        finding=13,
        file=_ENGINE,
        find="            if run.lead_said:\n                return  # the turn comes when its cue said",
        replace="            if False:\n                return  # the turn comes when its cue said",
        tests=[f"{FIND}test_reasoned_second_skip_keeps_the_announced_turn"],
        why="a second skip moves a turn announced 'in 5 seconds' later than announced",
    ),
    Mutant(
        id="F13-short-segment-before-a-turn-accepted",
        rule="2",
        finding=13,
        file=_COMPILER,
        find="            if shortest < lead - _EPS:\n",
        replace="            if False:  # mutant: a 2 s segment before a turn is accepted\n",
        tests=[f"{RULES}test_segment_too_short_for_the_turn_cue_refused"],
        why="a 2 s segment gets its turn cue 2 s ahead, not cue_lead_time",
    ),
    Mutant(
        id="F14-frozen-distance-counter-trusted",
        rule="8",
        finding=14,
        file=_MACHINE,
        find="        if stalled_for < DISTANCE_STALL_S or self.status is not ProgrammeStatus.RUNNING:\n",
        replace="        if True:  # mutant: a still counter is trusted for ever\n",
        tests=[f"{FIND}test_finding_14_frozen_distance_counter_falls_back_to_time"],
        why="a distance counter that never moves keeps a 90 s segment running for hours",
    ),
    Mutant(
        id="F14-compiler-bound-without-turns",
        rule="8",
        finding=14,
        file=_COMPILER,
        find="                total += turn + (0.0 if phase.final else restart)\n",
        replace="                pass  # mutant: turns do not count\n",
        tests=[f"{RULES}test_turns_count_towards_the_four_hours"],
        why="3.9 h of segments with many turns runs for 6.9 h",
    ),
    Mutant(
        id="F14-compiler-bound-at-planned-speed",
        rule="8",
        finding=14,
        file=_COMPILER,
        find="                total += phase.max_duration or phase.estimated_duration\n",
        replace="                total += phase.estimated_duration  # mutant\n",
        tests=[f"{RULES}test_distance_counts_at_half_its_speed"],
        why="a distance programme slowed to half speed lasts twice the 4 h bound",
    ),
    Mutant(
        id="F15-compiler-stagger-ignores-the-next-segment",
        rule="4",
        finding=15,
        file=_COMPILER,
        find="begin, end = starts[index] - STAGGER_S, starts[index] + draft.length + STAGGER_S",
        replace="begin, end = starts[index], starts[index] + draft.length - _EPS",
        tests=[f"{STAGGER}test_incline_raise_clear_of_the_next_segments_speed_raise"],
        why="an incline raise lands on the next segment's speed raise",
    ),
    Mutant(
        id="F16-no-speaker-countdown-starts-the-belt",
        rule="9",
        finding=16,
        file=_ENGINE,
        find="        self._speaker_check = speaker_check\n",
        replace="        self._speaker_check = lambda: True  # mutant: the speaker check is ignored\n",
        tests=[f"{FIND}test_finding_16_no_speaker_never_starts_the_belt"],
        why="with no working speaker the belt starts after a countdown nobody hears",
    ),
    Mutant(
        id="F16-speaker-failing-during-the-countdown",
        rule="9",
        finding=16,
        file=_PHASES,
        find=(
            "        if not self.advisory and not self._speaker_check():\n"
            "            self._wait_for_console()  # the speakers failed during the countdown\n"
        ),
        replace=(
            "        if False:  # mutant: speakers are not checked again when the countdown ends\n"
            "            self._wait_for_console()  # the speakers failed during the countdown\n"
        ),
        tests=[f"{FIND}test_finding_16_speaker_failing_during_the_countdown"],
        why="the speaker fails mid-countdown: the belt starts after ticks nobody heard",
    ),
    Mutant(
        id="F17-control-taken-back-ignored",
        rule="10",
        finding=17,
        file=_INTERLOCK,
        find="        if self.control_taken_back and verb not in (Verb.PAUSE, Verb.STOP):\n",
        replace="        if False:  # mutant: control is taken again silently\n",
        tests=[f"{FIND}test_finding_17_console_has_control_refuses_set_speed"],
        why="after the console took control back, a manual set_speed silently takes it again",
    ),
    Mutant(
        id="F18-segment-incline-not-aligned",
        rule="1",
        finding=18,
        file=_PHASES,
        find="            self._align_incline(at)\n",
        replace="            pass  # mutant: the last segment's incline stays on\n",
        tests=[f"{FIND}test_finding_18_skip_after_a_turn_applies_the_segments_incline"],
        why="a skip right after a turn leaves 8 % incline on for the rest of the programme",
    ),
    Mutant(
        id="F19-stagger-refusal-is-a-bare-assertion",
        rule="4",
        finding=19,
        file=_COMPILER,
        find=("            if count <= 1:\n                raise ProgrammeError(\n"),
        replace=(
            "            if count <= 1:\n"
            "                assert False, 'mutant: a bare AssertionError'\n"
            "                raise ProgrammeError(\n"
        ),
        tests=[f"{STAGGER}test_segment_too_short_for_the_stagger_refused"],
        why="a ramp the stagger cannot place crashes the compiler instead of a clear refusal",
    ),
    Mutant(
        id="F19-crowded-joint-ramp-refused",
        rule="4",
        finding=19,
        file=_COMPILER,
        find="            if count <= 1:\n",
        replace="            if True:  # mutant: no fewer, larger incline steps\n",
        tests=[
            f"{STAGGER}test_long_joint_ramp",
            f"{STAGGER}test_crowded_incline_ramp_takes_fewer_steps",
        ],
        why="a joint ramp of speed and incline whose steps do not all fit cannot be run",
    ),
    Mutant(
        id="F20-refused-stop-not-retried",
        rule="7",
        finding=20,
        file=_CLIENT,
        find="            if not halts or err.failure is not CommandFailure.CONTROL_NOT_PERMITTED:\n",
        replace="            if True:  # mutant: a refused stop is given up\n",
        tests=[f"{CONTROL}test_refused_stop_or_pause_requests_control_and_retries"],
        why="a stop refused with 'control not permitted' is never written again: the belt runs",
    ),
    # ----- the eight that survived the first properties ------------------------------------
    Mutant(
        id="M06-turn-cue-only-at-the-turn",
        rule="2",
        file=_TURNS,
        find=(
            "        if run.lead_said:\n"
            "            return\n"
            "        run.lead_said = True\n"
            "        run.lead_said_at = self._clock.now()\n"
        ),
        replace=(
            "        if run.lead_said:\n"
            "            return\n"
            "        if end > self._clock.now():  # mutant: said at the turn, believed said in time\n"
            "            lead = timedelta(seconds=self._options.cue_lead_time)\n"
            "            run.lead_said_at = run.lead_said_at or end - lead\n"
            "            return\n"
            "        run.lead_said = True\n"
        ),
        tests=[f"{FIND}test_finding_13_turn_after_a_long_pause_is_announced_again"],
        why="'turn around in 5 seconds' comes as the belt slows for the turn",
    ),
    Mutant(
        id="M07-incline-up-when-told-to-turn",
        rule="1",
        file=_COMMANDS,
        # "Incline +2 % when the person is told to turn" is caught twice over now: the
        # engine drops an incline raise a turn overtook, the interlock refuses one in a
        # turn (F12, M-tests in test_interlock.py). This mutant removes the engine's layer:
        # a raise queued behind a late start then reaches the turn and is refused.
        find=(
            "        return verb is not Verb.SET_INCLINE or self.interlock.direction is not "
            "Direction.TURNING\n"
        ),
        replace="        return True  # mutant: an incline raise is asked for in a turn\n",
        tests=["tests/programme/test_properties.py::test_safety_rules_hold"],
        why="the incline rises (or the programme stops on a refusal) just as the person turns",
    ),
    Mutant(
        id="M08-no-turn-duration",
        rule="1",
        file=_TURNS,
        find="        done = at + timedelta(seconds=self._options.turn_duration)\n",
        replace="        done = at  # mutant: no time to turn\n",
        tests=[f"{ENGINE}test_turn_waits_for_measured_speed"],
        why="the belt speeds up again the moment the person is told to turn",
    ),
    Mutant(
        id="M09-turn-never-slows-nor-pauses",
        rule="1",
        file=_TURNS,
        find=(
            "        if mode is TurnMode.PAUSE and self._belt_may_move():\n"
            "            self._command(Verb.PAUSE, None, Origin.SAFETY)\n"
            "            run.belt_moving = self.advisory\n"
            "        elif self._faster_than(run.timeline.turn_speed):\n"
            "            if self.interlock.is_raise(Verb.SET_SPEED, run.timeline.turn_speed):\n"
            "                # Faster by measure, but the stored target may be lower (a reply lost with\n"
            "                # the link): turn speed written could raise it in the turn. The belt is\n"
            "                # paused instead, rule 1's own fallback; the next segment starts anew.\n"
            "                self._command(Verb.PAUSE, None, Origin.SAFETY)\n"
            "                run.belt_moving = self.advisory\n"
            "            else:\n"
            "                self._speed(run.timeline.turn_speed, force=again)\n"
        ),
        replace="        pass  # mutant: the turn commands neither turn_speed nor a pause\n",
        tests=[f"{ENGINE}test_turn_waits_for_measured_speed"],
        why="the person is asked to turn on a belt still at walking speed",
    ),
    Mutant(
        id="M10-no-turn-timeout-pause",
        rule="1",
        file=_TURNS,
        find=(
            "        if run.turn_slowed:\n"
            "            return\n"
            "        self._command(Verb.PAUSE, None, Origin.SAFETY)\n"
        ),
        replace=(
            "        if run.turn_slowed:\n"
            "            return\n"
            "        pass  # mutant: a belt that never slows is left running\n"
        ),
        tests=[f"{ENGINE}test_turn_timeout_pauses_belt"],
        why="a belt that does not slow for a turn keeps running at walking speed",
    ),
    Mutant(
        id="M11-speaker-check-ignored-at-a-turn",
        rule="2",
        file=_TURNS,
        find="        if not resumed and (not self._speaker_check() or run.receipt_missed):\n",
        replace="        if not resumed and run.receipt_missed:  # mutant: the speaker check is ignored\n",
        tests=[f"{FIND}test_finding_10_wait_at_turn_cue_only_once_the_belt_rests"],
        why="with no working speaker the belt slows for a turn nobody announced",
    ),
    Mutant(
        id="M12-shutdown-never-pauses",
        rule="11",
        file=_ENGINE,
        find="            await self.interlock.pause(Origin.SAFETY, lower_to=turn_speed)\n",
        replace="            pass  # mutant: shutdown leaves the belt running\n",
        tests=[f"{ENGINE}test_shutdown_slows_pauses_and_records"],
        why="unloading the integration leaves the belt running with nobody in charge",
    ),
    Mutant(
        id="M13-manual-set-speed-uncapped",
        rule="3",
        file=_INTERLOCK,
        find="        if verb is Verb.SET_SPEED:\n            self._check_cap(verb, value)\n",
        replace="        if verb is Verb.SET_SPEED:\n            pass  # mutant: no cap on set_speed\n",
        tests=[f"{FIND}test_finding_11_set_speed_above_cap_refused_before_a_backward_start"],
        why="a manual set_speed takes a backward walker above max_backward_speed",
    ),
    # ----- more of the interlock's invariants and the reasoned findings -------------------
    Mutant(
        id="M14-set-speed-raises-a-resting-belt",
        rule="9",
        file=_INTERLOCK,
        find="        if not self._running:\n",
        replace="        if False:  # mutant: a raise goes to a paused or stopped belt\n",
        tests=[f"{FIND}test_reasoned_set_speed_to_a_resting_belt_only_lowers"],
        why="a paused belt's stored target is raised: some treadmills start on a target speed",
    ),
    Mutant(
        id="M15-advisory-turn-stalls",
        rule="10",
        file=_MACHINE,
        find="        if self.status is ProgrammeStatus.TURNING and not run.turn_slowed:\n",
        replace="        if False:  # mutant: an advisory turn waits for a slow-down nobody commands\n",
        tests=[f"{FIND}test_reasoned_advisory_turn_never_stalls"],
        why="a person speeding up on the console in a turn leaves the programme stuck turning",
    ),
    # Guards of the interlock alone: the engine never asks for these commands, so only the
    # interlock's state machine (tests/programme/test_interlock_properties.py) kills them.
    Mutant(
        id="M16-start-ignores-the-stop-latch",
        rule="7",
        file=_INTERLOCK,
        find="        if self.latched:\n            raise InterlockError(Verb.START, Refusal.STOP_LATCHED)\n",
        replace="        pass  # mutant: START after a stop without a person's start\n",
        tests=[
            "tests/programme/test_interlock.py::test_after_a_stop_only_a_person_starts_again",
            "tests/programme/test_interlock_properties.py",
        ],
        why="after a stop, an automation's start moves the belt again",
    ),
    Mutant(
        id="M17-start-without-the-countdown",
        rule="9",
        file=_INTERLOCK,
        find="        if not self._released:\n            raise InterlockError(Verb.START, Refusal.START_NOT_RELEASED)\n",
        replace="        pass  # mutant: START whether or not the countdown ran\n",
        tests=[
            "tests/programme/test_interlock.py::test_start_needs_the_countdown",
            "tests/programme/test_interlock_properties.py",
        ],
        why="the belt starts without the spoken countdown",
    ),
    Mutant(
        id="M18-interlock-epoch-not-checked",
        rule="7",
        file=_INTERLOCK,
        find="        if epoch != self._epoch or (halts is not None and halts != self._halts):\n",
        replace="        if False:  # mutant: a command waiting here still goes out after a stop\n",
        tests=[
            "tests/programme/test_interlock.py::test_a_command_waiting_for_its_turn_is_superseded_by_a_stop",
            "tests/programme/test_interlock_properties.py",
        ],
        why="a command waiting for its turn is written after a stop",
    ),
    Mutant(
        id="M19-start-not-staggered-after-an-incline-raise",
        rule="4",
        file=_INTERLOCK,
        find="        wait = self.raise_wait(Verb.SET_SPEED)\n        if wait > 0:\n            raise InterlockError(Verb.START,",
        replace="        wait = 0.0  # mutant\n        if wait > 0:\n            raise InterlockError(Verb.START,",
        tests=[
            "tests/programme/test_interlock.py::test_start_waits_three_seconds_after_an_incline_raise",
            "tests/programme/test_interlock_properties.py",
        ],
        why="a start's speed rises within 3 s of an incline raise",
    ),
    Mutant(
        id="M20-stop-leaves-the-stored-target-above-the-cap",
        rule="3",
        file=_INTERLOCK,
        find="        if capped and known_above and self._may_move() and not self.control_taken_back:\n",
        replace="        if False:  # mutant: a backward stop keeps a forward stored target\n",
        tests=[
            "tests/programme/test_interlock.py::test_a_stop_while_backward_leaves_no_stored_speed_above_the_cap",
            "tests/programme/test_interlock_properties.py",
        ],
        why="after a stop while backward, a console start resumes above the backward cap",
    ),
    # Glue mutants (issue 10): Home Assistant's own machinery undoing a rule.
    Mutant(
        id="G01-button-platform-queue",
        rule="7",
        file="custom_components/treadreverse/button.py",
        find="PARALLEL_UPDATES = 0\n",
        replace="PARALLEL_UPDATES = 1  # mutant: every press waits for the one in progress\n",
        tests=[
            "tests/integration/test_surfaces.py::test_stop_reaches_the_belt_while_a_pause_waits_for_its_reply[button]",
            "tests/integration/test_surfaces.py::test_stop_reaches_the_engine_while_a_start_prepares_speech[button]",
        ],
        why="a dashboard Stop waits behind a Pause waiting for its reply, or a start preparing speech",
    ),
    Mutant(
        id="G02-unavailable-speaker-counts-as-working",
        rule="2",
        file="custom_components/treadreverse/announcer.py",
        find="        return state is not None and state.state != STATE_UNAVAILABLE\n",
        replace="        return state is not None  # mutant: unavailable is as good as available\n",
        tests=[
            "tests/integration/test_speaker_health.py::test_an_unavailable_speaker_does_not_count_as_working[unavailable]",
            "tests/integration/test_speaker_health.py::test_a_cue_is_accepted_only_by_a_working_speaker",
        ],
        why="tts.speak skips an unavailable player silently: the turn goes on unheard instead of pausing",
    ),
    Mutant(
        id="G03-switch-start-does-not-wait-for-the-person",
        rule="9",
        file="custom_components/treadreverse/switch.py",
        find="        turn_on_fn=lambda c, o: c.async_press_start(o),\n",
        replace="        turn_on_fn=lambda c, _o: c.async_press_start(Origin.PERSON),  # mutant\n",
        tests=[
            "tests/integration/test_surfaces.py::test_an_automation_start_waits_for_the_person[switch_on]",
        ],
        why="an automation turning backward_intervals on starts the countdown with nobody at the belt",
    ),
    Mutant(
        id="M21-turn-begins-before-its-cue-was-accepted",
        rule="2",
        file=_TURNS,
        find=(
            "        if run.turn_cue is None or run.turn_cue_heard or run.receipt_missed "
            "or self.advisory:\n"
        ),
        replace="        if True:  # mutant: the turn never waits for its cue's receipt\n",
        tests=[
            "tests/programme/test_receipts.py",
            "tests/programme/test_properties.py::test_safety_rules_hold",
        ],
        why="a Cast speaker still buffering: the belt slows and the person turns on an unheard cue",
    ),
    Mutant(
        id="M22-pause-does-not-supersede-waiting-commands",
        rule="6",
        file="custom_components/treadreverse/programme/interlock.py",
        find="        self._check_allowed(Verb.PAUSE, origin)\n        self._halts += 1\n",
        replace="        self._check_allowed(Verb.PAUSE, origin)\n",
        tests=[
            "tests/programme/test_interlock.py::test_a_start_waiting_for_its_turn_is_superseded_by_a_pause",
            "tests/programme/test_properties.py::test_safety_rules_hold",
        ],
        why="an automation's incline change asked before a person's pause reaches the paused belt",
    ),
    Mutant(
        id="M23-pause-waits-behind-a-lost-reply",
        rule="1",
        file="custom_components/treadreverse/programme/interlock.py",
        find="        if goal is None or not self._needs_lowering(goal):\n",
        replace="        if False:  # mutant: every pause waits for the command in flight\n",
        tests=[
            "tests/programme/test_interlock.py::test_a_pause_jumps_a_command_whose_reply_is_lost",
            "tests/programme/test_properties.py::test_safety_rules_hold",
        ],
        why="a turn's timeout pause waits out a lost reply: the belt runs on 5 s past the bound",
    ),
    Mutant(
        id="M24-client-pause-queued-behind-a-lost-reply",
        rule="1",
        file="custom_components/treadreverse/treadmill/client.py",
        find='        await self._send("pause", ftms.pause(), echo, priority=True)\n',
        replace='        await self._submit("pause", ftms.pause(), echo)  # mutant: queued\n',
        tests=["tests/treadmill/test_client.py::test_pause_jumps_a_stuck_command"],
        why="the client writes a pause only after a stuck command's reply timeout",
    ),
    Mutant(
        id="M25-late-pause-reply-overrides-a-console-start",
        rule="10",
        file="custom_components/treadreverse/programme/interlock.py",
        find="            if starts == self._starts:\n",
        replace="            if True:  # mutant: a late pause reply hides the person's start\n",
        tests=[
            "tests/programme/test_interlock.py::test_a_console_start_outlives_a_late_pause_reply",
            "tests/programme/test_properties.py::test_safety_rules_hold",
        ],
        why="the programme's next speed is refused after the person restarted the belt",
    ),
    Mutant(
        id="M26-raise-judged-without-targets-on-their-way",
        rule="4",
        file="custom_components/treadreverse/programme/interlock.py",
        find=(
            "        return self._is_raise_now(verb, value) or any(value > p + _EPS for p in pending)\n"
        ),
        replace="        return self._is_raise_now(verb, value)  # mutant: pending targets ignored\n",
        tests=[
            "tests/programme/test_interlock.py::test_a_target_is_judged_against_one_on_its_way",
            "tests/programme/test_properties.py::test_safety_rules_hold",
        ],
        why="a ramp step behind a person's lowering is refused as a raise too soon: paused",
    ),
    Mutant(
        id="M28-console-confirmation-commands-before-control-is-back",
        rule="10",
        file="custom_components/treadreverse/programme/commands.py",
        find="        if reclaim is not None and not reclaim.done() and verb not in (Verb.STOP, Verb.PAUSE):\n",
        replace="        if False:  # mutant: commands do not wait for control asked again\n",
        tests=[
            "tests/programme/test_findings.py::"
            "test_a_console_start_confirming_an_automation_start_asks_for_control_first"
        ],
        why="an automation's programme confirmed on the console pauses on its own refused speed",
    ),
    Mutant(
        id="M29-turn-writes-turn-speed-over-an-unknown-target",
        rule="1",
        file="custom_components/treadreverse/programme/turns.py",
        find="            if self.interlock.is_raise(Verb.SET_SPEED, run.timeline.turn_speed):\n",
        replace="            if False:  # mutant: turn speed written whatever the stored target\n",
        tests=["tests/programme/test_properties.py::test_safety_rules_hold"],
        why="a turn over a stored target lost with the link is refused and pauses the programme",
    ),
    Mutant(
        id="M31-jumping-pause-ignores-a-raise-on-its-way",
        rule="3",
        file="custom_components/treadreverse/programme/interlock.py",
        find="        if any(p > goal + _EPS for p in self._pending[Verb.SET_SPEED]):\n",
        replace="        if False:  # mutant: a raise on its way counts as nothing to lower\n",
        tests=["tests/programme/test_interlock.py::test_a_pause_lowers_a_raise_still_on_its_way"],
        why="a turn's pause leaves a person's 6.0 stored with the person about to face backward",
    ),
    Mutant(
        id="M30-advisory-turn-lets-our-incline-climb",
        rule="1",
        file="custom_components/treadreverse/programme/turns.py",
        find="        elif self.can_control and self.interlock.incline_target == target:\n",
        replace="        elif False:  # mutant: an advisory turn never holds the deck\n",
        tests=["tests/programme/test_simulator.py::test_safety_rules_hold_on_the_simulator"],
        why="after a console speed change the deck climbs on to our target during the turn",
    ),
    Mutant(
        id="M32-client-start-written-after-a-jumping-pause",
        rule="1",
        file="custom_components/treadreverse/treadmill/client.py",
        find=(
            "        pauses = self._pause_epoch if payload[0] == "
            "ControlOpcode.START_OR_RESUME else None\n"
        ),
        replace="        pauses = None  # mutant: a pause never supersedes a start\n",
        tests=[
            "tests/treadmill/test_client.py::test_a_pause_supersedes_a_start_waiting_for_control"
        ],
        why="a start waiting for control is written after the pause and runs the paused belt",
    ),
    Mutant(
        id="M33-a-cancelled-control-request-ends-the-worker",
        rule="10",
        file="custom_components/treadreverse/programme/commands.py",
        find="            await asyncio.wait([reclaim])\n",
        replace="            await asyncio.shield(reclaim)  # mutant: its end is the worker's\n",
        tests=[
            "tests/programme/test_findings.py::"
            "test_a_cancelled_control_request_leaves_the_command_worker_running"
        ],
        why="the programme runs on with nothing sent after the control request was cancelled",
    ),
    Mutant(
        id="M34-turn-begins-while-an-unheld-deck-climbs",
        rule="1",
        file="custom_components/treadreverse/programme/turns.py",
        find=(
            "        if self._wait_for_receipt(skipped=skipped) or "
            "self._wait_for_deck(skipped=skipped):\n"
        ),
        replace="        if self._wait_for_receipt(skipped=skipped):  # mutant: no deck wait\n",
        tests=["tests/programme/test_simulator.py::test_safety_rules_hold_on_the_simulator"],
        why="control taken back while our incline climbs: the deck rises to 1.5 % in the turn",
    ),
    Mutant(
        id="M35-console-halt-leaves-a-waiting-start",
        rule="7",
        file="custom_components/treadreverse/treadmill/client.py",
        find="        if event.type in _HALTS:\n",
        replace="        if False:  # mutant: a console halt leaves our waiting start alone\n",
        tests=[
            "tests/treadmill/test_client.py::"
            "test_a_console_halt_supersedes_a_start_waiting_for_control"
        ],
        why="a start waiting for control runs the belt the person just stopped on the console",
    ),
    Mutant(
        id="M36-lowering-pause-leaves-a-waiting-start",
        rule="11",
        file="custom_components/treadreverse/programme/interlock.py",
        find="        self._treadmill.drop_pending_start()\n",
        replace="        pass  # mutant: a start waiting in the client may slip out first\n",
        tests=[
            "tests/treadmill/test_client.py::"
            "test_a_pause_that_lowers_first_supersedes_a_start_waiting_for_control"
        ],
        why="the unload's pause lowers first: START goes out ahead of it and the belt starts",
    ),
    Mutant(
        id="M37-deck-wait-ignores-an-unknown-target",
        rule="1",
        file="custom_components/treadreverse/programme/turns.py",
        find="        if self.interlock.incline_target not in (None, target):\n",
        replace="        if self.interlock.incline_target != target:  # mutant: unknown is not ours\n",
        tests=[
            "tests/programme/test_simulator.py::"
            "test_a_turn_waits_for_an_incline_whose_reply_was_late_as_control_was_taken_back"
        ],
        why="a late incline reply cancelled as control is taken back: the deck climbs in the turn",
    ),
    Mutant(
        id="M38-deck-wait-capped-at-ten-seconds",
        rule="1",
        file="custom_components/treadreverse/programme/turns.py",
        find="DECK_SETTLE_WAIT_S = 60.0  # rule 1: a turn waits at most this long for our incline to settle\n",
        replace="DECK_SETTLE_WAIT_S = 10.0  # mutant: a long climb goes into the turn\n",
        tests=["tests/programme/test_simulator.py::test_safety_rules_hold_on_the_simulator"],
        why="a 10 % raise still climbing 10 s after the turn's moment rises in the turn",
    ),
    Mutant(
        id="M39-turn-cue-waits-for-a-start-on-its-way",
        rule="2",
        file="custom_components/treadreverse/programme/core.py",
        find="                if not self._start_holds or (held and len(self._later) > told):\n",
        replace="                if not self._start_holds:  # mutant: news waits for START too\n",
        tests=[
            "tests/programme/test_listeners_later.py::"
            "test_a_turn_cue_is_heard_when_said_while_a_start_is_on_its_way"
        ],
        why="a resume near a turn: its fresh cue waits for a slow START, the turn comes on time",
    ),
    Mutant(
        id="G04-start-survives-a-link-lost-while-prepared",
        rule="6",
        file="custom_components/treadreverse/coordinator.py",
        find="        if self._link_losses != losses:\n",
        replace="        if False:  # mutant: a link lost while the start is prepared is forgotten\n",
        tests=[
            "tests/integration/test_services.py::"
            "test_a_link_lost_while_a_start_is_prepared_cancels_the_start"
        ],
        why="the link drops as the start's cues are made, comes back: the belt starts anyway",
    ),
]

# Mutants held back from the gate (none now): an entry waits here while its tests fail
# on the unmutated code. Kept in step with the code all the same.
PENDING: list[Mutant] = []
