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
"""The job runner: schedules ready jobs, drives Heat, finishes jobs.

Threads:

- one scheduling thread runs a readiness pass whenever a job arrives or
  finishes (and at least every ``[agent] schedule_interval``);
- ready jobs run on a pool of ``[agent] max_concurrent_jobs`` threads:
  resolve params, render, call Heat, then leave the stack in flight;
- :meth:`JobRunner.reconcile`, a periodic task, asks Heat for the status of
  all in-flight stacks at once and hands terminal ones to a pool of
  ``[agent] record_writers`` threads, which read the outputs once and
  write the records and the job's completion in one etcd transaction.

A job that cannot go on because etcd or Heat does not answer (past the
retries of the call) is retried later, with backoff, as a resumed job: its
stack, found again by its job tag, is adopted rather than created twice.
After ``[agent] service_outage_timeout`` of such retries it fails with an
error naming the service.
"""

import collections
import heapq
import itertools
import threading
import time

import futurist
from oslo_log import log as logging

from esi_agent import exception
from esi_agent.heat import notifications
from esi_agent.heat import stacks as stacks_mod
from esi_agent.jobs import scheduler
from esi_agent.jobs import store
from esi_agent import records
from esi_agent.render import request

LOG = logging.getLogger(__name__)

#: How many resources' outputs are kept (the least recently used go).
OUTPUTS_CACHE_SIZE = 10000

#: Backoff of a job that waits for a service: 1, 2, 4... up to 30 s.
RETRY_BASE_DELAY = 1.0
RETRY_MAX_DELAY = 30.0


class JobRunner(object):

    def __init__(self, conf, job_store, stacks, template_source, mappings,
                 coordinator=None):
        self._conf = conf
        self._coordinator = coordinator
        self._synced = None
        self._claims_due = 0.0
        self._sync_thread = None
        self._store = job_store
        self._stacks = stacks
        self._source = template_source
        self._mappings = mappings
        self.index = scheduler.JobIndex()
        self._inflight = {}
        self._inflight_lock = threading.Lock()
        self._known_records = set()
        # Called with (entry, status) when a job of this agent reaches its
        # final status (the metrics observe job durations there).
        self.on_final = None
        # Resources found without records: (type, id) -> when to ask again.
        self._no_records = {}
        self._records_lock = threading.Lock()
        # Outputs read from etcd: (type, id) -> (writer, outputs), LRU.
        self._outputs = collections.OrderedDict()
        # Terminal events of stacks not tracked yet (under _inflight_lock).
        self.early_events = notifications.EarlyEvents()
        # Jobs waiting for a service: id -> (first failure, attempts), and
        # the heap of (due, seq, entry) to put back to PENDING.
        self._outages = {}
        self._delayed = []
        self._delayed_seq = itertools.count()
        self._delayed_lock = threading.Lock()
        self._poll_failing_since = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = None
        self._heat_pool = futurist.ThreadPoolExecutor(
            max_workers=conf.agent.max_concurrent_jobs)
        self._record_pool = futurist.ThreadPoolExecutor(
            max_workers=conf.agent.record_writers)

    # Life cycle

    def start(self):
        self._thread = threading.Thread(target=self._loop,
                                        name='esi-agent-scheduler',
                                        daemon=True)
        self._thread.start()
        self._sync_thread = threading.Thread(target=self._sync_loop,
                                             name='esi-agent-sync',
                                             daemon=True)
        self._sync_thread.start()

    def stop(self):
        self._stopping.set()
        self._wake.set()
        for thread in (self._thread, self._sync_thread):
            if thread is not None:
                thread.join()
        self._heat_pool.shutdown(wait=True)
        self._record_pool.shutdown(wait=True)

    def resume(self):
        """Load the jobs stored in etcd and resume this agent's own.

        This agent's unfinished jobs, and the orphans the hash ring gives
        it, run again.
        """
        self.sync()
        LOG.info('Loaded %(n)d jobs from etcd, %(r)d of them unfinished '
                 'and run by this agent',
                 {'n': len(self.index), 'r': sum(
                     1 for e in self.index.waiting() if e.mine)})

    def sync(self):
        """Bring the index up to date with the jobs and claims in etcd.

        Adds the jobs other agents took, records their completions, and
        claims the unfinished jobs that lost their owner when the hash
        ring gives them to this agent.
        """
        now = time.monotonic()
        # The claims of every unfinished job are many more keys than the
        # jobs changed since the last sync: they are read every quarter
        # of a lease, enough to take the jobs of a dead agent over within
        # two lease TTLs (its claims vanish one TTL after its death).
        read_claims = self._synced is None or now >= self._claims_due
        stored_jobs, owners, revision = self._store.snapshot(
            since=self._synced, claims=read_claims)
        if read_claims:
            self._claims_due = now + max(self._conf.agent.sync_interval,
                                         self._conf.agent.lease_ttl / 4.0)
        changed = False
        with self.index.lock:
            for stored in stored_jobs:
                try:
                    changed |= self._apply(stored)
                except Exception:
                    # One unreadable job must not stop the others.
                    LOG.exception('Ignoring stored job %r',
                                  str(stored.job.get('id'))[:128])
        if owners is not None:
            changed |= self._apply_claims(owners, revision)
        self._synced = revision
        if changed:
            self._wake.set()

    def _apply(self, stored):
        entry = self.index.get(stored.job.get('id'))
        if entry is None:
            try:
                entry = scheduler.JobEntry(
                    stored.job, stored.arrival, stored.received_at,
                    status=stored.status, error=stored.error,
                    resumed=stored.status == store.PENDING, mine=False,
                    attempt=stored.attempt)
            except (KeyError, TypeError) as e:
                LOG.error('Ignoring an unreadable stored job: %s', e)
                return False
            return self.index.add(entry)
        if (stored.status in store.FINAL_STATUSES
                and entry.status not in store.FINAL_STATUSES
                and not entry.mine):
            entry.status, entry.error = stored.status, stored.error
            return True
        if (stored.status == store.PENDING
                and entry.status in store.FINAL_STATUSES
                and stored.received_at != entry.received_at):
            # Put back, unclaimed, by "esi-agent-manage jobs retry": a job
            # received anew, which the hash ring's agent claims.
            LOG.info('Job %s was put back to PENDING to run again',
                     entry.id)
            entry.status, entry.error = store.PENDING, ''
            entry.received_at, entry.mine = stored.received_at, False
            entry.attempt = stored.attempt
            return True
        return False

    def _apply_claims(self, owners, revision):
        """Act on the claims read at ``revision``."""
        me = self._store.owner
        changed = False
        for entry in self.index.waiting() + self._active():
            if entry.arrival > revision:
                # Taken after the snapshot: its claim is not in it.
                continue
            owner = owners.get(entry.id)
            if entry.mine:
                if owner is None and not self._store.claim(entry.id):
                    # Our lease expired and another agent took the job.
                    self._let_go(entry)
                    changed = True
                elif owner is not None and owner != me:
                    self._let_go(entry)
                    changed = True
            elif entry.status == store.PENDING and (
                    owner == me or (owner is None and self._owns(entry.id))):
                # Ours from before a restart (on an old lease), or an
                # orphan the hash ring gives us: resume it.
                if self._store.claim(entry.id, previous=owner):
                    LOG.info('Job %(id)s: taking it over (%(why)s)',
                             {'id': entry.id, 'why': 'claimed by this agent '
                              'before it restarted' if owner else
                              'its agent is gone'})
                    entry.mine = entry.resumed = True
                    changed = True
        return changed

    def _owns(self, job_id):
        return self._coordinator is None or self._coordinator.owns(job_id)

    def _active(self):
        with self._inflight_lock:
            return [e for e, _s in self._inflight.values()]

    def _let_go(self, entry):
        LOG.warning('Job %s: another agent owns it now; letting it go',
                    entry.id)
        with self._inflight_lock:
            for name, (tracked, _s) in list(self._inflight.items()):
                if tracked is entry:
                    del self._inflight[name]
        with self.index.lock:
            entry.mine = False
            if entry.status in scheduler.ACTIVE:
                entry.status = store.PENDING

    def _sync_loop(self):
        failing = False
        while not self._stopping.wait(self._conf.agent.sync_interval):
            try:
                self.sync()
            except exception.EtcdError as e:
                if not failing:
                    LOG.warning('Cannot read the jobs of the other agents: '
                                '%s', e)
                failing = True
                continue
            except Exception:
                LOG.exception('Synchronising jobs from etcd failed')
                continue
            failing = False

    def add(self, entry):
        """Hand over a job the intake stored and claimed."""
        with self.index.lock:
            if not self.index.add(entry):
                known = self.index.get(entry.id)
                # The sync thread read the stored job before the intake
                # handed it over, and took it for another agent's: it is
                # ours (the intake transaction claimed it), and new.
                if known.status == store.PENDING and not known.mine:
                    known.mine, known.resumed = True, False
        self._wake.set()

    def in_flight(self):
        with self._inflight_lock:
            return len(self._inflight)

    # Scheduling

    def _loop(self):
        last_full = 0.0
        while not self._stopping.is_set():
            interval = self._conf.agent.schedule_interval
            woken = self._wake.wait(interval)
            self._wake.clear()
            if self._stopping.is_set():
                return
            # A pass after an event looks at the jobs it may concern; one
            # at least every schedule_interval looks at every waiting job
            # (timeouts, records written by others).
            now = time.monotonic()
            full = not woken or now - last_full >= interval
            if full:
                last_full = now
            try:
                self._release_delayed()
                self._schedule_pass(full)
            except Exception:
                LOG.exception('Scheduling pass failed; retrying')

    def _has_records(self, resource, now, unknown):
        """What the scheduler knows of a resource's records, without I/O.

        Positive answers are kept for good (records are never deleted),
        negative ones until ``[agent] schedule_interval`` has passed: the
        records of a resource whose job this agent or another one
        completes are known from the index, so a negative answer only
        waits for records written by others (the legacy worker, a seed).
        A resource never asked, or asked too long ago, is added to
        ``unknown``, for :meth:`_read_records` to ask etcd after the pass.
        """
        if resource in self._known_records:
            return True
        with self._records_lock:
            due = self._no_records.get(resource)
        if due is None or due <= now:
            unknown.add(resource)
        return False

    def _read_records(self, unknown, now):
        """Ask etcd whether the resources in ``unknown`` have records.

        :returns: True when some have (another pass can start them).
        """
        found = False
        retry_at = now + self._conf.agent.schedule_interval
        for resource in unknown:
            try:
                if self._store.has_records(*resource):
                    self._known_records.add(resource)
                    found = True
                    continue
            except exception.EtcdError:
                pass
            with self._records_lock:
                self._no_records[resource] = retry_at
        if found:
            for resource in unknown:
                if resource in self._known_records:
                    self.index.touch_readers(resource)
        with self._records_lock:
            self._no_records = {r: due for r, due in self._no_records.items()
                                if due > now and r not in self._known_records}
        return found

    def _schedule_pass(self, full=True):
        """Start, fail or supersede the waiting jobs that can be decided.

        The index lock is held while one job is evaluated, never while
        etcd is asked: the resources whose records are not known yet are
        read after the pass, which is run again for the jobs concerned
        when some have records, or when a job's timeout waited for them.

        :param full: look at every waiting job, not only at those whose
            readiness may have changed since the last pass.
        """
        for _again in range(2):
            now = time.time()
            unknown, timed_out = self._evaluate_waiting(now, full)
            if not unknown:
                return
            if not self._read_records(unknown, now) and not timed_out:
                return
            for entry in timed_out:
                self.index.touched(entry)
            full = False
        self._wake.set()

    def _evaluate_waiting(self, now, full):
        """Act on the waiting jobs that can be decided.

        :returns: the resources whose records must be read from etcd, and
            the jobs that timed out unless those have records.
        """
        timeout = self._conf.agent.dependency_timeout
        unknown = set()
        timed_out = []
        # Whether the job evaluated last was told "no" for want of a read.
        unsure = [False]

        def has_records(rtype, rid):
            found = self._has_records((rtype, rid), now, unknown)
            if not found and (rtype, rid) in unknown:
                unsure[0] = True
            return found

        for entry in self.index.candidates(everything=full):
            with self.index.lock:
                if entry.status != store.PENDING or not entry.mine:
                    continue
                unsure[0] = False
                decision = scheduler.evaluate(
                    entry, self.index, has_records, now, timeout)
                if decision.kind == decision.WAIT:
                    continue
                if unsure[0] and isinstance(
                        decision.error, exception.DependencyTimeout):
                    # Not timed out before the records are read.
                    timed_out.append(entry)
                    continue
                entry.status = scheduler.RUNNING
                entry.started = time.monotonic()
            if decision.kind == decision.READY:
                self._heat_pool.submit(self._start, entry)
            elif decision.kind == decision.FAIL:
                self._record_pool.submit(self._reject, entry,
                                         decision.error)
            else:
                self._record_pool.submit(self._supersede, entry)
        return unknown, timed_out

    # Running a job

    def _start(self, entry):
        try:
            self._start_stack(entry)
        except store.ClaimLost:
            self._let_go(entry)
        except exception.ServiceUnavailable as e:
            self._retry_later(entry, e)
        except exception.JobError as e:
            self._reject(entry, e)
        except Exception as e:
            LOG.exception('Job %s failed unexpectedly', entry.id)
            self._reject(entry, exception.JobError(
                reason='internal error: %s' % type(e).__name__))

    def _start_stack(self, entry):
        job = entry.job
        name = stacks_mod.stack_name(*entry.resource)
        tag = stacks_mod.job_tag(entry.id, entry.attempt)
        if entry.resumed:
            existing = self._stacks.find(name)
            if existing is not None and tag in existing.tags:
                LOG.info('Job %(id)s: adopting stack %(stack)s it created '
                         'before a restart', {'id': entry.id,
                                              'stack': existing.identity})
                self._track(entry, existing, adopted=True)
                return
        if records.is_delete(job['action']):
            status = self._stacks.delete(name)
            if status is None:
                LOG.info('Job %(id)s: stack %(stack)s does not exist; '
                         'delete complete', {'id': entry.id, 'stack': name})
                self._complete(entry, stacks_mod.StackStatus(
                    '', name, stacks_mod.DELETE_COMPLETE))
            else:
                self._track(entry, status)
            return
        req = request.build(job, self._mappings, self._source,
                            self._lookup_outputs,
                            self._conf.heat.default_stack_timeout)
        if req is None:
            LOG.info('Job %s: the template mapping chose no stack', entry.id)
            self._finish(entry, records.read_complete_record(job),
                         store.COMPLETED)
            return
        converge = (self._stacks.create if job['action'] == 'create'
                    else self._stacks.update)
        status = converge(req.name, req.template, req.parameters,
                          req.timeout_mins, tag)
        LOG.info('Job %(id)s: %(action)s of stack %(stack)s (template '
                 '%(tpl)s) sent to Heat',
                 {'id': entry.id, 'action': job['action'],
                  'stack': status.identity, 'tpl': req.template_id})
        self._track(entry, status)

    def _lookup_outputs(self, rtype, rid):
        """The outputs of a resource, read from etcd once per writer.

        The records of a resource are those of its finished job of highest
        version (the version guard sees to it): while the index shows the
        same one, the outputs read before are current, and the other
        dependents of the resource do not read them again.
        """
        resource = (rtype, rid)
        writer = self._records_writer(resource)
        with self._records_lock:
            cached = self._outputs.get(resource)
            if cached is not None and cached[0] == writer:
                self._outputs.move_to_end(resource)
                return cached[1]
        outputs = self._store.outputs(rtype, rid)
        if outputs is not None:
            with self._records_lock:
                self._outputs[resource] = (writer, outputs)
                self._outputs.move_to_end(resource)
                while len(self._outputs) > OUTPUTS_CACHE_SIZE:
                    self._outputs.popitem(last=False)
        return outputs

    def _records_writer(self, resource):
        """The id of the job whose records a resource has, per the index.

        None when no job in the index finished (the records, if any, are
        older than the jobs this agent knows).
        """
        with self.index.lock:
            finished = [e for e in self.index.of_resource(resource)
                        if e.status in (store.COMPLETED, store.FAILED)]
            if not finished:
                return None
            return max(finished, key=lambda e: (e.version, e.arrival)).id

    def _track(self, entry, status, adopted=False):
        entry.status = scheduler.IN_PROGRESS
        if not adopted:
            # Heat took a call of this job: an outage it waited for is
            # over. (Adopting its stack again after a failed completion
            # is no such proof.)
            self._outages.pop(entry.id, None)
        with self._inflight_lock:
            # One job of a resource at a time: the stack name is unique
            # among in-flight jobs.
            self._inflight[status.name] = (entry, status)
            early = self.early_events.take(
                status, stacks_mod.job_tag(entry.id, entry.attempt),
                entry.started)
        if early is not None:
            # Heat's notification came before the call returned.
            self._take_terminal(early, same_action=True)

    # Completion

    def reconcile(self):
        """Finish the in-flight jobs whose stacks reached a terminal status.

        :returns: how many stacks were found terminal.
        """
        with self._inflight_lock:
            tracked = list(self._inflight.values())
        if not tracked:
            return 0
        try:
            current = self._stacks.statuses([s for _e, s in tracked])
        except exception.HeatUnavailable as e:
            # Logged once per outage by the Heat client.
            self._poll_failed(tracked, e)
            return 0
        except exception.JobError as e:
            LOG.warning('Cannot poll Heat for %(n)d in-flight stacks: '
                        '%(err)s', {'n': len(tracked), 'err': e})
            return 0
        self._poll_failing_since = None
        done = 0
        for entry, status in tracked:
            latest = current.get(status.id)
            if latest is not None and self._take_terminal(latest):
                done += 1
        return done

    def _poll_failed(self, tracked, error):
        """Fail the in-flight jobs once Heat was down for too long."""
        now = time.monotonic()
        if self._poll_failing_since is None:
            self._poll_failing_since = now
        waited = now - self._poll_failing_since
        if waited < self._conf.agent.service_outage_timeout:
            return
        for entry, status in tracked:
            with self._inflight_lock:
                if self._inflight.get(status.name, (None,))[0] is not entry:
                    continue
                del self._inflight[status.name]
            self._record_pool.submit(self._reject, entry,
                                     exception.ServiceOutage(
                                         seconds=waited, service='Heat',
                                         reason=str(error)))

    def stack_event(self, stack_id, stack_name, stack_status, reason='',
                    tags=None):
        """A hint that a stack changed status (a Heat notification).

        Finishes the job at once when the stack is one of this agent's
        in-flight stacks and the status is terminal. The terminal event of
        a stack not tracked yet is kept for a few seconds (its create or
        update call may not have returned yet), see :meth:`_track`.
        Anything else is ignored, the periodic reconcile staying the
        source of truth.

        :param tags: the stack's tags, as the notification gives them.
        :returns: True when a job was handed to completion.
        """
        return self._take_terminal(stacks_mod.StackStatus(
            stack_id, stack_name, stack_status, reason, tags),
            same_action=True, keep=True)

    def _take_terminal(self, latest, same_action=False, keep=False):
        """Hand the in-flight job of a terminal stack to completion.

        :param same_action: only when the status is of the action the job
            started (a late event of an earlier action is stale).
        :param keep: keep the event when its stack is not tracked.
        """
        if not stacks_mod.is_terminal(latest.status):
            return False
        with self._inflight_lock:
            tracked = self._inflight.get(latest.name)
            if tracked is None and keep:
                self.early_events.keep(latest)
            if tracked is None or tracked[1].id != latest.id:
                return False
            if same_action and (tracked[1].status.split('_')[0]
                                != latest.status.split('_')[0]):
                return False
            if self._stale(tracked[0], tracked[1], latest):
                return False
            del self._inflight[latest.name]
        self._record_pool.submit(self._complete_safely, tracked[0], latest)
        return True

    @staticmethod
    def _stale(entry, started, latest):
        """Whether ``latest`` is the end of an action before the job's.

        Heat answers an update (or a delete) before the stack shows it in
        progress: a poll just after it can still see the end of the action
        before. An update or a create gives the stack the job's tag, so a
        terminal status without it (when Heat gives the tags) predates the
        job; a delete ends in DELETE_*, which for any other job means the
        stack was deleted outside the agent.
        """
        if started.status.startswith('DELETE_'):
            return not latest.status.startswith('DELETE_')
        if latest.status.startswith('DELETE_') or not latest.tags:
            return False
        return stacks_mod.job_tag(entry.id, entry.attempt) not in latest.tags

    def _complete_safely(self, entry, status):
        try:
            self._complete(entry, status)
        except store.ClaimLost:
            self._let_go(entry)
        except exception.ServiceUnavailable as e:
            self._retry_later(entry, e)
        except Exception:
            LOG.exception('Job %s: completion failed; retrying', entry.id)
            self._retry_later(entry, None)

    def _complete(self, entry, status):
        if (status.status.startswith('DELETE_')
                and not records.is_delete(entry.job['action'])):
            self._reject(entry, exception.HeatError(
                operation=entry.job['action'], stack=status.name,
                reason='the stack was deleted outside esi-agent (%s)'
                % status.status))
            return
        outputs = []
        if (status.status.endswith('_COMPLETE')
                and status.status != stacks_mod.DELETE_COMPLETE):
            try:
                outputs = self._stacks.outputs(status)
            except exception.HeatUnavailable:
                # Records without outputs would mislead the dependents:
                # finish it when Heat is back.
                raise
            except exception.HeatError as e:
                LOG.warning('Job %(id)s: cannot read the outputs of '
                            '%(stack)s: %(err)s',
                            {'id': entry.id, 'stack': status.identity,
                             'err': e})
        recs = records.stack_records(entry.job, status.name, status.status,
                                     status.reason, outputs)
        succeeded = status.status.endswith('_COMPLETE')
        error = '' if succeeded else (status.reason or status.status)
        LOG.info('Job %(id)s: stack %(stack)s is %(status)s',
                 {'id': entry.id, 'stack': status.name or '-',
                  'status': status.status})
        self._finish(entry, recs,
                     store.COMPLETED if succeeded else store.FAILED, error)

    def _reject(self, entry, error):
        LOG.error('Job %(id)s failed: %(err)s', {'id': entry.id,
                                                 'err': error})
        try:
            self._finish(entry, records.rejected_record(entry.job, error),
                         store.FAILED, str(error))
        except store.ClaimLost:
            self._let_go(entry)
        except exception.EtcdError as e:
            self._retry_later(entry, e)

    def _supersede(self, entry):
        LOG.info('Job %s: a higher version of its resource is already '
                 'done; skipping it', entry.id)
        try:
            self._store.mark(entry.job, store.SUPERSEDED, entry.received_at,
                             attempt=entry.attempt,
                             error='superseded by a higher version')
        except store.ClaimLost:
            self._let_go(entry)
            return
        except exception.EtcdError as e:
            self._retry_later(entry, e)
            return
        self._set_final(entry, store.SUPERSEDED, '')

    def _finish(self, entry, resource_records, status, error=''):
        written = self._store.finish(entry.job, resource_records, status,
                                     entry.received_at, error=error,
                                     attempt=entry.attempt)
        self._set_final(entry, status if written else store.SUPERSEDED,
                        error)

    def _set_final(self, entry, status, error):
        self._outages.pop(entry.id, None)
        with self.index.lock:
            entry.status = status
            entry.error = error
        if status == store.COMPLETED:
            self._known_records.add(entry.resource)
        self._wake.set()
        if self.on_final is not None:
            self.on_final(entry, status)

    def _retry_later(self, entry, error):
        """Run the job again later, with backoff: a service is down.

        Past ``[agent] service_outage_timeout`` of such retries the job
        fails with an error naming the service (written, when etcd is the
        one down, as soon as it answers again).
        """
        now = time.monotonic()
        first, attempts = self._outages.get(entry.id, (now, 0))
        self._outages[entry.id] = (first, attempts + 1)
        waited = now - first
        if waited >= self._conf.agent.service_outage_timeout:
            service = getattr(error, 'service', None)
            self._record_pool.submit(self._reject, entry, (
                exception.ServiceOutage(seconds=waited, service=service,
                                        reason=str(error))
                if service else exception.JobError(
                    reason='internal error, retried for %d s' % waited)))
            return
        delay = min(RETRY_BASE_DELAY * 2 ** attempts, RETRY_MAX_DELAY)
        # The outage itself is logged once by the client of the service.
        (LOG.info if attempts == 0 else LOG.debug)(
            'Job %(id)s: cannot go on now (%(err)s); retrying in '
            '%(delay).1f s', {'id': entry.id, 'err': error, 'delay': delay})
        with self._delayed_lock:
            heapq.heappush(self._delayed, (now + delay,
                                           next(self._delayed_seq), entry))

    def _release_delayed(self):
        """Put the jobs whose retry delay is over back to PENDING."""
        now = time.monotonic()
        due = []
        with self._delayed_lock:
            while self._delayed and self._delayed[0][0] <= now:
                due.append(heapq.heappop(self._delayed)[2])
        if not due:
            return
        with self.index.lock:
            for entry in due:
                if entry.status not in store.FINAL_STATUSES:
                    entry.status = store.PENDING
                    entry.resumed = True
