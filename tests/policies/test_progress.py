"""Progress lines: due every few seconds, saying where a run stands and how fast it goes."""

import io

from policies.progress import ProgressLog, status_line


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_progress_line_is_due_once_the_interval_passed_since_the_last_one():
    clock, stream = FakeClock(), io.StringIO()
    log = ProgressLog(interval_s=5.0, stream=stream, clock=clock)
    clock.now += 4.9
    assert not log.due()
    clock.now += 0.1
    assert log.due()
    log.write("env step 4 of 400")
    assert not log.due() and stream.getvalue() == "sim2real train: env step 4 of 400\n"
    clock.now += 5.0
    assert log.due()


def test_a_disabled_progress_log_is_never_due_and_writes_nothing():
    clock, stream = FakeClock(), io.StringIO()
    log = ProgressLog(enabled=False, stream=stream, clock=clock)
    clock.now += 60.0
    log.write("anything")
    assert not log.due() and stream.getvalue() == ""


def test_a_status_line_gives_steps_activity_time_and_once_paced_the_time_left():
    compiling = status_line(0, 3000, "starting", 0.4, None)
    assert compiling == "env step 0 of 3,000 (0%): starting; 0 s"
    paced = status_line(1024, 3000, "update 5 of 8 this step", 300.0, 2.0)
    assert paced == "env step 1,024 of 3,000 (34%): update 5 of 8 this step; 5 min, 2.0 env steps/s, ~16 min left"
