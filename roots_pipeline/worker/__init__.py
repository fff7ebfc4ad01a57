"""What every Beam step needs under the sources, stages and writers, in whichever worker runs it:
how documents are encoded between steps (`coder`), files on any filesystem — whether a path is
remote, model files staged to local disk, the run's scratch files (`fs`), progress counters
(`progress`), and memory given back to the system (`glibc_heap`).

It imports none of the units above it, so `sources/`, `stages/`, `output/` and `runner/` can all
use it without an import cycle."""
