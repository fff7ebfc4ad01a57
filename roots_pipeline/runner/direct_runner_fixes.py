"""Two fixes to how Beam's DirectRunner sends data to its workers: no silent loss, bounded messages.

Both apply to the runner's process, where `roots run` calls `apply_direct_runner_fixes()` for
local runners. They patch Beam 2.77's classes named below; the measurements that found the
faults are in `bench/README.md` ("DirectRunner fixes").

**Loss.** In its `multi_processing` and `multi_threading` modes the runner sends each worker its
input through `TimeBasedBufferingClosableOutputStream`. A thread flushes that buffer every
second: it hands the bytes to the channel's send queue, then clears the buffer. Writes do not
take the flush lock. When the send queue is full (it holds 100 MB), the hand-off blocks, the
runner keeps writing, and the clear then drops everything written in the meantime. No error is
raised, and the ledger still balances. A stage whose input is a stored collection, not a
shuffle, is sent chunk by chunk, so it loses whole batches: in practice any stage with a side
input. Fix: every write to such a stream holds the flush lock, so a full queue slows the writer
instead of losing its bytes. Worker processes do not flush on a timer (their limit is 0).

**Message size.** The runner sends each worker its whole share of a stage's input as one bundle.
A grouped input (a `GroupByKey`'s output) is a single chunk, so it goes as a single message, which
the worker holds while it works, in two or three copies (gRPC, protobuf, bytes): its memory grew
with the corpus. Fix, in two parts:
- Grouped inputs are encoded group by group into chunks of about `CHUNK_BYTES`, and each group
  leaves the runner's table once encoded: the runner's process holds a shuffle about once while
  it sends it (Beam's own partition held it three times over at its peak: decoded, encoded, and
  copied out; at 1 GB in `bench/scale.py` the MinHash band shuffle took the runner from 0.95 to
  2.2 GB). Shuffles in other windows than the global one (none in this pipeline) keep Beam's
  partition: one message per worker.
- The runner flushes after each chunk (its size threshold is 10 MB). Beam sends all of a bundle's
  input before it starts the bundle, and a worker queues only five messages unread, so the input
  is now sent from a thread while the bundle runs.

Contract: a worker holds a few messages of about `CHUNK_BYTES` plus the element it works on,
whatever the size of the stage's input.
"""

from __future__ import annotations

import _thread
import functools
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from apache_beam.coders.coder_impl import create_OutputStream
from apache_beam.coders.stream import OutputStream
from apache_beam.runners.portability.fn_api_runner.execution import GroupingBuffer
from apache_beam.runners.portability.fn_api_runner.fn_runner import BundleManager
from apache_beam.runners.worker.data_plane import TimeBasedBufferingClosableOutputStream, _GrpcDataChannel
from apache_beam.transforms.window import GlobalWindow, GlobalWindows
from apache_beam.utils import windowed_value

CHUNK_BYTES = 8 << 20
_LOGGER = logging.getLogger(__name__)
Parts = list[list[bytes]]  # a buffer's partition: per worker, the chunks sent

# Every method that appends to the buffer: `write` for raw chunks (the runner's inputs and
# timers), the others for elements a coder encodes in place (in-process workers).
_WRITES = tuple(name for name in dir(OutputStream) if name.startswith("write"))


def partition_in_chunks(buffer: GroupingBuffer, n: int, limit: int = CHUNK_BYTES) -> Parts:
    """`GroupingBuffer.partition` for the global window: the same groups, given to the same of `n`
    workers, each worker's as chunks that end after the first group taking them to `limit` bytes
    or more. Each key's values leave the buffer as soon as they are encoded, so the runner's
    process holds the shuffle about once (Beam's own holds it decoded, then encoded in one stream,
    then copied out of that stream: three times at its peak). Later calls return the same chunks."""
    if buffer._grouped_output:
        return buffer._grouped_output
    pane = windowed_value.PaneInfo(is_first=True, is_last=True, timing=windowed_value.PaneInfoTiming.ON_TIME,
                                   index=0, nonspeculative_index=0)
    in_window = GlobalWindows.windowed_value(None, timestamp=GlobalWindow().max_timestamp(),
                                             pane_info=pane).with_value
    coder, key_coder = buffer._post_grouped_coder.get_impl(), buffer._key_coder.get_impl()
    parts: Parts = [[] for _ in range(n)]
    streams = [create_OutputStream() for _ in range(n)]
    table = buffer._table
    for index, encoded_key in enumerate(list(table)):
        values = table.pop(encoded_key)
        stream = streams[index % n]
        coder.encode_to_stream(in_window((key_coder.decode(encoded_key), values)), stream, True)
        if stream.size() >= limit:
            parts[index % n].append(stream.get())
            streams[index % n] = create_OutputStream()
    for part, stream in zip(parts, streams, strict=True):
        if stream.size() or not part:
            part.append(stream.get())
    buffer._grouped_output = parts
    return parts


def _waiting_for_flush(write: Callable[..., Any]) -> Callable[..., Any]:
    def locked(self: TimeBasedBufferingClosableOutputStream, *args: Any) -> Any:
        with self._flush_lock:
            return write(self, *args)

    locked.__name__ = write.__name__
    return locked


def _global_window_in_chunks(partition: Callable[[GroupingBuffer, int], Parts],
                             ) -> Callable[[GroupingBuffer, int], Parts]:
    @functools.wraps(partition)
    def chunked(self: GroupingBuffer, n: int) -> Parts:
        return partition_in_chunks(self, n) if self._windowing.is_default() else partition(self, n)

    return chunked


def _send_input_to_worker(self: BundleManager, process_bundle_id: str, read_transform_id: str,
                          byte_streams: Iterable[bytes] | None) -> None:
    """Send a bundle's input in messages of about 10 MB, from a thread, so the bundle starts at once.

    Beam sends all input before it starts the bundle, which works only while the input fits in
    the few messages a worker queues unread; sent in small messages it would wait forever. The
    in-process channel (in_memory mode) reads what was written when the bundle starts, so it
    keeps Beam's way.
    """
    data_out = self._worker_handler.data_conn.output_stream(process_bundle_id, read_transform_id)
    if not isinstance(self._worker_handler.data_conn, _GrpcDataChannel):
        for byte_stream in byte_streams or []:
            data_out.write(byte_stream)
        data_out.close()
        return

    def send() -> None:
        try:
            for byte_stream in byte_streams or []:
                data_out.write(byte_stream)
                data_out.maybe_flush()
            data_out.close()
        except BaseException:
            # The worker would wait for the rest of its input forever: stop the run instead.
            _LOGGER.exception("sending input to a DirectRunner worker failed; stopping the run")
            _thread.interrupt_main()
            raise

    threading.Thread(target=send, name="roots-send-input", daemon=True).start()


def apply_direct_runner_fixes() -> None:
    """Patch this process's Beam runner: writes wait for a running flush, inputs go in messages of
    about 10 MB. Idempotent."""
    stream = TimeBasedBufferingClosableOutputStream
    if getattr(stream, "_roots_fixed", False):
        return
    for name in _WRITES:
        setattr(stream, name, _waiting_for_flush(getattr(OutputStream, name)))
    GroupingBuffer.partition = _global_window_in_chunks(GroupingBuffer.partition)
    BundleManager._send_input_to_worker = _send_input_to_worker
    stream._roots_fixed = True
