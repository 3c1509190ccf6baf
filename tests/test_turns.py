"""Turns at the CPU: one worker parses at a time, a worker waiting on the network lets
another parse, and a turn held too long makes nobody wait."""

from __future__ import annotations

import threading
import time

from watcher.turns import Turns


def test_one_thread_works_at_a_time():
    turns = Turns(1)
    inside, most = [0], [0]
    lock = threading.Lock()

    def work() -> None:
        for _ in range(50):
            with turns.working():
                with lock:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0)  # let another thread try to come in
                with lock:
                    inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert most[0] == 1


def test_a_thread_waiting_on_the_network_gives_its_turn_to_another():
    turns = Turns(1)
    fetching, parsed = threading.Event(), threading.Event()

    def check() -> None:
        with turns.working(), turns.waiting():  # holds its turn, then waits on a request
            fetching.set()
            assert parsed.wait(5), "nobody else worked while this one waited"

    first = threading.Thread(target=check)
    first.start()
    assert fetching.wait(5)
    with turns.working():  # the second check gets the turn while the first one waits
        parsed.set()
    first.join(5)
    assert not first.is_alive()


def test_a_turn_held_past_stuck_after_makes_nobody_wait():
    now = [0.0]
    turns = Turns(1, stuck_after=2.0, clock=lambda: now[0])
    held, release = threading.Event(), threading.Event()

    def stuck() -> None:
        with turns.working():
            held.set()
            release.wait(10)

    thread = threading.Thread(target=stuck)
    thread.start()
    assert held.wait(5)
    now[0] = 2.5  # the holder has kept its turn for 2.5 s: a parser gone astray
    started = time.monotonic()
    with turns.working():
        pass  # worked without a turn, at once
    assert time.monotonic() - started < 1
    release.set()
    thread.join(5)
    with turns.working():  # and the turn itself is still there, once
        pass


def test_without_a_limit_nothing_waits():
    turns = Turns(None)
    with turns.working(), turns.working(), turns.waiting():
        pass


def test_no_turn_while_the_run_has_enough_parsed_checks_to_write():
    turns = Turns(1)
    waiting = [2]  # parsed checks the run has yet to take
    turns.watch(lambda: waiting[0], most=2)
    started = threading.Event()

    def parse() -> None:
        with turns.working():
            started.set()

    thread = threading.Thread(target=parse)
    thread.start()
    assert not started.wait(0.1), "parsed a third check while two waited"
    waiting[0] = 1
    turns.nudge()  # the run took one
    assert started.wait(5)
    thread.join(5)


def test_a_run_that_does_not_take_its_results_holds_parsing_up_only_for_a_while():
    turns = Turns(1, stuck_after=0.05)
    turns.watch(lambda: 10, most=4)  # the run's thread is busy elsewhere (Slack said wait)
    started = time.monotonic()
    with turns.working():
        pass
    assert 0.04 <= time.monotonic() - started < 2
