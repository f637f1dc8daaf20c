"""What a batch job's fork server imports once, before it forks the job's workers
(:mod:`modelyard.batch._forkserver`): every worker starts with it done.

Imported for its effects, and only by such a server (its preload list names this
module; nothing else imports it):

- the server dies with the driver's thread that started it (``PR_SET_PDEATHSIG``),
  and every worker with the server, so ``kill -9`` of the driver still leaves no
  worker running. Should the driver die before this line runs, the server may
  still fork the workers the driver asked for (a request in flight holds the
  server's lifeline open), but each of them checks, once it asked to die with the
  server, that the server's parent is still the driver, and exits otherwise
  (:func:`~modelyard.execution._local._descends_from`); with its last worker gone,
  the server's lifeline closes and it exits;
- pyarrow and the partition code are imported;
- the process is the job's alone (:func:`~modelyard.batch._scorer.dedicate_process`);
- pyarrow is kept from pandas (:func:`~modelyard.batch._scorer.detach_pandas`),
  unless pandas was imported first (a job that captures its traffic preloads it);
- scikit-learn cannot be imported until a worker starts: the model's library,
  preloaded after this module, imports without it, as
  :func:`~modelyard.batch._scorer.import_lean` would have it. Each worker lifts
  the refusal as it starts (:func:`~modelyard.batch._workers.start_worker`).
"""

from __future__ import annotations

import sys

import pyarrow.parquet  # noqa: F401  (every partition reads or writes Parquet)

import modelyard.batch._partition  # noqa: F401  (the work item's module)
from modelyard.batch._scorer import dedicate_process, detach_pandas
from modelyard.execution._local import die_with_parent

die_with_parent()
dedicate_process()
detach_pandas()
if "sklearn" not in sys.modules:
    sys.modules["sklearn"] = None  # type: ignore[assignment]  # import sklearn: ImportError
