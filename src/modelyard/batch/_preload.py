"""What a batch job's fork server imports once, before it forks the job's workers
(:mod:`modelyard.batch._forkserver`): every worker starts with it done.

Imported for its effects, and only by such a server (its preload list names this
module; nothing else imports it):

- the server dies with the driver's thread that started it (``PR_SET_PDEATHSIG``),
  and every worker with the server, so ``kill -9`` of the driver leaves no worker
  running (see :mod:`modelyard.batch._forkserver` for a driver that dies first);
- pyarrow's Parquet reader and writer, and the partition code (the work item's
  module, which brings the registry's loader), are imported.
"""

from __future__ import annotations

import pyarrow.parquet  # noqa: F401  (every partition reads or writes Parquet)

import modelyard.batch._partition  # noqa: F401  (the work item's module)
from modelyard.execution._local import die_with_parent

die_with_parent()
