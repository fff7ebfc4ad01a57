"""`apply_direct_runner_fixes`: bytes written while Beam's timed flush is blocked reach the worker,
and grouped inputs are encoded group by group into chunks of bounded size, as Beam would group them."""

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



def grouping_buffer(groups: dict[bytes, list[bytes]]):
    """A GroupingBuffer of the global window holding `groups` (key -> values), as a shuffle does."""
    from apache_beam.coders.coder_impl import create_OutputStream
    from apache_beam.coders.coders import (
        BytesCoder,
        GlobalWindowCoder,
        IterableCoder,
        TupleCoder,
        WindowedValueCoder,
    )
    from apache_beam.runners.portability.fn_api_runner.execution import GroupingBuffer
    from apache_beam.transforms import core, window

    windowed = lambda coder: WindowedValueCoder(coder, GlobalWindowCoder())  # noqa: E731
    before = windowed(TupleCoder([BytesCoder(), BytesCoder()]))
    after = windowed(TupleCoder([BytesCoder(), IterableCoder(BytesCoder())]))
    buffer = GroupingBuffer(before, after, core.Windowing(window.GlobalWindows()))
    stream = create_OutputStream()
    for key, values in groups.items():
        for value in values:
            element = window.GlobalWindows.windowed_value((key, value))
            before.get_impl().encode_to_stream(element, stream, True)
    buffer.append(stream.get())
    return buffer, after.get_impl()


def grouped(chunks: list[bytes], impl) -> list[tuple[bytes, list[bytes]]]:
    """The (key, values) groups that chunks of a partition hold, in order; each chunk must end at a group."""
    from apache_beam.coders.coder_impl import create_InputStream

    groups = []
    for chunk in chunks:
        stream = create_InputStream(chunk)
        while stream.size() > 0:
            key, values = impl.decode_from_stream(stream, True).value
            groups.append((key, list(values)))
    return groups


GROUPS = {bytes([i]) * 3: [bytes([i, j]) * (20 + 7 * i) for j in range(i % 5 + 1)] for i in range(60)}


def test_grouped_input_is_cut_at_group_boundaries_into_bounded_chunks_holding_beams_groups():
    from roots_pipeline.runner.direct_runner_fixes import partition_in_chunks

    beams, impl = grouping_buffer(GROUPS)
    expected = [grouped(part, impl) for part in beams.partition(2)]
    ours, _ = grouping_buffer(GROUPS)
    parts = partition_in_chunks(ours, 2, limit=1000)
    assert [grouped(part, impl) for part in parts] == expected  # same groups, same workers, same order
    assert all(len(part) > 2 for part in parts)
    largest_group = max(len(b"".join(values)) for values in GROUPS.values()) + 100
    assert all(len(chunk) < 1000 + largest_group for part in parts for chunk in part)
    assert not ours._table  # every group left the table once encoded
    assert partition_in_chunks(ours, 2) is parts  # later calls return the same chunks


def test_small_inputs_are_one_chunk_a_worker_even_when_empty():
    from roots_pipeline.runner.direct_runner_fixes import partition_in_chunks

    buffer, impl = grouping_buffer({b"k": [b"a", b"b"]})
    parts = partition_in_chunks(buffer, 3)
    assert [len(part) for part in parts] == [1, 1, 1]
    assert grouped(parts[0], impl) == [(b"k", [b"a", b"b"])] and parts[1] == parts[2] == [b""]
