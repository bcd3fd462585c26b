"""The collector is off inside `paused`, back on after the last user leaves, and left off when it
was off before."""

from __future__ import annotations

import gc
import threading

from optiloop import gcpause


def test_paused_nests_and_restores() -> None:
    assert gc.isenabled()
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer user is still inside
    assert gc.isenabled()


def test_an_error_inside_still_restores() -> None:
    try:
        with gcpause.paused():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()


def test_left_off_when_it_was_off() -> None:
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_concurrent_users_restart_it_once_both_leave() -> None:
    inside, release = threading.Barrier(2), threading.Event()

    def user() -> None:
        with gcpause.paused():
            inside.wait()
            release.wait(5)

    t = threading.Thread(target=user)
    t.start()
    with gcpause.paused():
        inside.wait()
    assert not gc.isenabled()  # the other thread is still inside
    release.set()
    t.join()
    assert gc.isenabled()
