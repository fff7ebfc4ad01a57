"""`apply_direct_runner_fixes`: bytes written while Beam's timed flush is blocked reach the worker,
and grouped inputs are cut at element boundaries into chunks of bounded size."""

import subprocess
import sys

# Runs in a fresh interpreter: the fix patches Beam's class for the whole process.
RACE = """
import sys, threading
from apache_beam.runners.worker.data_plane import TimeBasedBufferingClosableOutputStream
if sys.argv[1] == "fixed":
    from roots_pipeline.runner.direct_runner_fixes import apply_direct_runner_fixes
    apply_direct_runner_fixes()
    apply_direct_runner_fixes()  # a second call changes nothing

received = []
flushing, release, started, written = (threading.Event() for _ in range(4))

def hand_off(data):  # the send queue is full: the flush waits here
    if data:
        flushing.set()
        release.wait(10)
    received.append(data)

stream = TimeBasedBufferingClosableOutputStream(
    close_callback=received.append, flush_callback=hand_off, time_flush_threshold_ms=20)
stream.write(b"first ")
assert flushing.wait(10), "the timed flush never started"

def writer():
    started.set()
    stream.write(b"second ")
    stream.write_byte(ord("!"))
    written.set()

thread = threading.Thread(target=writer)
thread.start()
assert started.wait(10)
written.wait(1)  # unfixed: the writes land at once, in the buffer the flush will clear
release.set()
thread.join(10)
stream.close()
print(b"".join(received).decode())
"""


def run_race(mode: str) -> str:
    done = subprocess.run([sys.executable, "-c", RACE, mode], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_bytes_written_during_a_blocked_flush_arrive():
    assert run_race("fixed") == "first second !"


def test_beam_alone_drops_them():
    """Shows the bug is Beam's and still there: when this fails, Beam fixed it and the module can go."""
    assert run_race("unfixed") == "first"



def encoded(values: list[bytes]) -> tuple[bytes, "object"]:
    """Values encoded back to back with Beam's bytes coder, nested (length-prefixed), as grouped
    inputs are."""
    from apache_beam.coders import BytesCoder
    from apache_beam.coders.coder_impl import create_OutputStream

    impl = BytesCoder().get_impl()
    out = create_OutputStream()
    for value in values:
        impl.encode_to_stream(value, out, True)
    return out.get(), impl


def decoded(chunks: list[bytes], impl: "object") -> list[bytes]:
    from apache_beam.coders.coder_impl import create_InputStream

    values = []
    for chunk in chunks:
        stream = create_InputStream(chunk)
        while stream.size() > 0:
            values.append(impl.decode_from_stream(stream, True))
    return values


def test_grouped_input_is_cut_at_element_boundaries_into_bounded_chunks():
    from roots_pipeline.runner.direct_runner_fixes import split_at_elements

    values = [bytes([i]) * (100 + 37 * i) for i in range(60)]
    data, impl = encoded(values)
    chunks = split_at_elements(data, lambda s: impl.decode_from_stream(s, True), limit=1000)
    assert len(chunks) > 5
    assert b"".join(chunks) == data
    assert decoded(chunks, impl) == values  # every chunk starts and ends at an element
    largest = max(len(v) for v in values) + 2
    assert all(len(chunk) < 1000 + largest for chunk in chunks)


def test_small_or_single_element_input_is_sent_as_it_is():
    from roots_pipeline.runner.direct_runner_fixes import split_at_elements

    data, impl = encoded([b"a" * 50, b"b" * 50])
    assert split_at_elements(data, lambda s: impl.decode_from_stream(s, True), limit=1000) == [data]
    big, impl = encoded([b"x" * 5000])
    assert split_at_elements(big, lambda s: impl.decode_from_stream(s, True), limit=1000) == [big]
