"""Restart policies and the kubelet's crash-loop backoff, on a clock the test drives."""

from __future__ import annotations

import pytest

from podbay.runtime.lifecycle.restarts import CrashLoopBackoff, backoff_message, restarts, terminated_reason


@pytest.mark.parametrize(("policy", "code", "again"), [
    ("Always", 0, True), ("Always", 1, True), ("OnFailure", 0, False), ("OnFailure", 1, True),
    ("Never", 0, False), ("Never", 137, False)])
def test_restart_policy_on_exit_codes(policy: str, code: int, again: bool) -> None:
    assert restarts(policy, code) is again


def test_terminated_reasons() -> None:
    assert (terminated_reason(0), terminated_reason(1), terminated_reason(137, oom_killed=True)) == (
        "Completed", "Error", "OOMKilled")


def test_backoff_is_immediate_then_doubles_from_ten_seconds_to_the_cap() -> None:
    backoff = CrashLoopBackoff()
    now, delays = 1000.0, []
    for _ in range(8):
        delay = backoff.exited("web/main", now, ran_for=1)
        delays.append(delay)
        assert backoff.waiting("web/main", now) == delay
        now += delay + 1
        assert backoff.waiting("web/main", now) == 0
    assert delays == [0, 10, 20, 40, 80, 160, 300, 300]


def test_ten_minutes_of_running_resets_the_backoff_and_containers_are_apart() -> None:
    backoff = CrashLoopBackoff(base=1, cap=8)
    assert [backoff.exited("a", t, ran_for=1) for t in (0, 1, 2, 3)] == [0, 1, 2, 4]
    assert backoff.exited("b", 4, ran_for=1) == 0  # another container has its own sequence
    assert backoff.exited("a", 700, ran_for=600) == 0
    assert backoff.exited("a", 701, ran_for=1) == 1


def test_backoff_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODBAY_BACKOFF_BASE", "0.5")
    monkeypatch.setenv("PODBAY_BACKOFF_CAP", "2")
    backoff = CrashLoopBackoff.from_environment()
    assert (backoff.base, backoff.cap) == (0.5, 2)
    monkeypatch.setenv("PODBAY_BACKOFF_CAP", "0.1")
    with pytest.raises(ValueError, match="need 0 < base <= cap"):
        CrashLoopBackoff.from_environment()


def test_the_kubelets_back_off_message() -> None:
    assert backoff_message(20, "main", "web", "default", "u-1") == (
        "back-off 20s restarting failed container=main pod=web_default(u-1)")
