# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.
"""When is a job ready? (SPEC section 3)

:class:`JobIndex` is the agent's in-memory view of the jobs in etcd, in
arrival order, indexed by resource. :func:`evaluate` decides, for one waiting
job, whether it can run now, must wait (and for what), has failed because of
a dependency, or is superseded by a higher version of its resource. It does no
I/O except through the injected ``has_records`` callable.
"""

import collections
import threading

from esi_agent import exception
from esi_agent.jobs import store
from esi_agent.render import params as params_mod

# In-memory statuses on top of the stored ones.
RUNNING = 'RUNNING'          # resolving, rendering or calling Heat
IN_PROGRESS = 'IN_PROGRESS'  # Heat is building the stack
ACTIVE = (RUNNING, IN_PROGRESS)


class JobEntry(object):
    """One job as the scheduler sees it.

    Once in a :class:`JobIndex`, a change of its ``status`` or ``mine``
    is noted there, for the next scheduling pass.
    """

    def __init__(self, job, arrival, received_at, status=store.PENDING,
                 error='', resumed=False, mine=True, attempt=0):
        self._index = None
        self.job = job
        # This agent holds the job's claim: it runs it. Jobs of the other
        # agents are in the index as context for readiness only.
        self.mine = mine
        self.id = job['id']
        self.resource = (job['resource_type'], job['resource_id'])
        self.version = job['version']
        self.arrival = arrival
        self.received_at = received_at
        self.status = status
        self.error = error
        self.resumed = resumed
        # 1, 2... once put back by "esi-agent-manage jobs retry".
        self.attempt = attempt
        # time.monotonic() when it last started to run; None before.
        self.started = None
        self.dependency = list(job.get('dependency') or ())
        self.refs = [r for r in params_mod.output_refs(job['params'])
                     if r != self.resource]

    @property
    def status(self):
        return self._status

    @status.setter
    def status(self, value):
        self._status = value
        if self._index is not None:
            self._index.touched(self)

    @property
    def mine(self):
        return self._mine

    @mine.setter
    def mine(self, value):
        self._mine = value
        if self._index is not None:
            self._index.touched(self)

    @property
    def fails_dependents(self):
        return self.job.get('on_failure') == 'fail'

    def __repr__(self):
        return '<JobEntry %s %s>' % (self.id, self.status)


class JobIndex(object):
    """Thread-safe index of jobs by id and by resource, in arrival order.

    It also notes the jobs whose status or owner changed, so that a
    scheduling pass can look only at the pending jobs whose readiness may
    have changed since the last one (:meth:`candidates`): those jobs
    themselves, the jobs that depend on them, the jobs of their resource
    and the jobs that read their resource's outputs.
    """

    def __init__(self):
        self.lock = threading.RLock()
        self._jobs = {}
        self._by_resource = collections.defaultdict(list)
        # job id -> the jobs that list it in their dependency
        self._dependents = collections.defaultdict(list)
        # resource -> the jobs whose params read its outputs
        self._readers = collections.defaultdict(list)
        # Never held while taking self.lock (entries note their changes
        # with or without it).
        self._changes_lock = threading.Lock()
        self._pending = set()
        self._changed = set()

    def add(self, entry):
        with self.lock:
            if entry.id in self._jobs:
                return False
            self._jobs[entry.id] = entry
            siblings = self._by_resource[entry.resource]
            siblings.append(entry)
            siblings.sort(key=lambda e: e.arrival)
            for dep_id in set(entry.dependency):
                self._dependents[dep_id].append(entry)
            for ref in entry.refs:
                self._readers[ref].append(entry)
            entry._index = self
            self.touched(entry)
            return True

    def touched(self, entry):
        """Note that a job's status or owner changed (or it arrived)."""
        with self._changes_lock:
            self._changed.add(entry)
            if entry.status == store.PENDING:
                self._pending.add(entry)
            else:
                self._pending.discard(entry)

    def touch_readers(self, resource):
        """Note that what is known of a resource's records changed."""
        with self.lock:
            readers = list(self._readers.get(resource, ()))
        with self._changes_lock:
            self._changed.update(readers)

    def candidates(self, everything=False):
        """The pending jobs to look at again, in arrival order.

        :param everything: all of them; else those whose readiness may
            have changed since the last call.
        """
        with self.lock:
            with self._changes_lock:
                changed, self._changed = self._changed, set()
                if everything:
                    affected = set(self._pending)
            if not everything:
                affected = set()
                for entry in changed:
                    affected.add(entry)
                    affected.update(self._dependents.get(entry.id, ()))
                    affected.update(self._by_resource.get(entry.resource,
                                                          ()))
                    affected.update(self._readers.get(entry.resource, ()))
            return sorted((e for e in affected
                           if e.status == store.PENDING),
                          key=lambda e: e.arrival)

    def get(self, job_id):
        return self._jobs.get(job_id)

    def of_resource(self, resource):
        return self._by_resource.get(resource, ())

    def waiting(self):
        """Pending jobs in arrival order."""
        with self._changes_lock:
            pending = list(self._pending)
        return sorted(pending, key=lambda e: e.arrival)

    def count_by_status(self):
        with self.lock:
            return collections.Counter(e.status for e in self._jobs.values())

    def __len__(self):
        return len(self._jobs)


class Decision(object):
    READY = 'ready'
    WAIT = 'wait'
    FAIL = 'fail'
    SUPERSEDED = 'superseded'

    def __init__(self, kind, waiting_for=(), error=None):
        self.kind = kind
        self.waiting_for = list(waiting_for)
        self.error = error


def _check_dependencies(entry, index, waits):
    for dep_id in entry.dependency:
        dep = index.get(dep_id)
        if dep is None:
            waits.append('job %s (not received)' % dep_id)
        elif dep.status == store.FAILED:
            if dep.fails_dependents:
                return exception.DependencyFailed(
                    dependency=dep_id, reason=dep.error or 'failed')
        elif dep.status not in (store.COMPLETED, store.SUPERSEDED):
            waits.append('job %s (%s)' % (dep_id, dep.status.lower()))
    return None


def _check_own_resource(entry, index, waits):
    """Version order and one job at a time per resource.

    A job waits for every known pending job of lower version of its
    resource and for any job of it that is running; a job whose version is
    below one already finished is superseded.

    :returns: True when a higher version already finished.
    """
    for other in index.of_resource(entry.resource):
        if other is entry:
            continue
        if other.status in ACTIVE:
            waits.append('job %s of the same resource (%s)'
                         % (other.id, other.status.lower()))
        elif (other.status == store.PENDING
              and other.version < entry.version):
            # Versions run in order whatever order the casts arrived in:
            # several RPC threads (or agents) take one scenario's casts at
            # once, so arrival order is only a hint of version order.
            waits.append('version %d of the same resource (job %s)'
                         % (other.version, other.id))
        elif (other.status in (store.COMPLETED, store.FAILED)
              and other.version > entry.version):
            # Also after a failed higher version: running the lower one
            # would take the stack back to an older config that its
            # records (guarded by version) could never show.
            return True
    return False


def _check_references(entry, index, has_records, waits, timed_out):
    """Output_key references: earlier jobs of the resource, or its records.

    Whether a resource has records is only asked when nothing else keeps
    the job waiting (or to say why it timed out): the answer may cost an
    etcd read.
    """
    unrecorded = []
    for rtype, rid in entry.refs:
        jobs = index.of_resource((rtype, rid))
        earlier_pending = [j for j in jobs if j.arrival < entry.arrival
                           and j.status not in store.FINAL_STATUSES]
        if earlier_pending:
            waits.append('%s %s (job %s %s)' % (
                rtype, rid, earlier_pending[0].id,
                earlier_pending[0].status.lower()))
            continue
        finished = [j for j in jobs if j.status in (store.COMPLETED,
                                                    store.FAILED)]
        if finished and finished[-1].status == store.FAILED:
            return exception.DependencyFailed(
                dependency='%s %s (job %s)' % (rtype, rid, finished[-1].id),
                reason=finished[-1].error or 'failed')
        if not finished:
            unrecorded.append((rtype, rid))
    if unrecorded and (timed_out or not waits):
        for rtype, rid in unrecorded:
            if not has_records(rtype, rid):
                waits.append('the records of %s %s' % (rtype, rid))
    return None


def evaluate(entry, index, has_records, now, timeout):
    """Decide what to do with the pending job ``entry``.

    :param has_records: callable(resource_type, resource_id) -> bool, for
        resources that no job in the index has completed; asked only when
        nothing else keeps the job waiting, or once it has timed out.
    :param now: wall-clock time, seconds.
    :param timeout: seconds a job may wait before it fails.
    """
    waits = []
    waited = now - entry.received_at
    error = _check_dependencies(entry, index, waits)
    if error is None:
        if _check_own_resource(entry, index, waits):
            return Decision(Decision.SUPERSEDED)
        error = _check_references(entry, index, has_records, waits,
                                  waited > timeout)
    if error is not None:
        return Decision(Decision.FAIL, error=error)
    if not waits:
        return Decision(Decision.READY)
    cycle = find_cycle(entry, index)
    if cycle:
        return Decision(Decision.FAIL, error=exception.DependencyCycle(
            cycle=' -> '.join(cycle)))
    if waited > timeout:
        return Decision(Decision.FAIL, error=exception.DependencyTimeout(
            seconds=waited, waiting_for=', '.join(waits)))
    return Decision(Decision.WAIT, waiting_for=waits)


def find_cycle(entry, index):
    """The explicit dependency cycle through ``entry``, if any.

    :returns: the job ids of the cycle, starting and ending with
        ``entry.id``, or None.
    """
    path, seen = [entry.id], set()

    def visit(job_id):
        current = index.get(job_id)
        if current is None or current.status != store.PENDING:
            return False
        for dep_id in current.dependency:
            if dep_id == entry.id:
                path.append(dep_id)
                return True
            if dep_id in seen:
                continue
            seen.add(dep_id)
            path.append(dep_id)
            if visit(dep_id):
                return True
            path.pop()
        return False

    return path if visit(entry.id) else None
