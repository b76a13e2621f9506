"""``grade batch --cluster``: the same grading on a Dask cluster's workers, each holding one Grader of its own.

``client`` runs in ``grade batch`` and imports dask only when asked for a cluster; ``node`` is what each Dask worker
runs (a worker plugin and the task that grades one submission); ``course_files`` carries the course to the nodes as
bytes. Student code runs only in a node's sandboxed workers, as it does on one machine.
"""

from .client import DEVICES, Address, on_cluster, parse
from .course_files import pack, unpack

__all__ = ["Address", "parse", "on_cluster", "DEVICES", "pack", "unpack"]  # node: imported on the workers, with dask
