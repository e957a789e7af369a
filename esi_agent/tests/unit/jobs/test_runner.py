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

"""Unit tests of :mod:`esi_agent.jobs.runner`.

The runner runs with an in-memory job store, a fake Heat (``FakeStacks``)
and a template source stub. The scheduling thread is never started: each
test calls ``_schedule_pass()`` and ``reconcile()`` itself, then waits,
with a deadline, for the futures of every task these gave to the runner's
real thread pools.
"""

import threading
import time
import uuid

import fixtures

from esi_agent import exception
from esi_agent.heat import stacks as stacks_mod
from esi_agent.jobs import runner as runner_mod
from esi_agent.jobs import scheduler
from esi_agent.jobs import store
from esi_agent import records
from esi_agent.tests import base
from esi_agent.tests import services

CONF = base.CONF

NET = 'b62eefe0-0872-478d-adfe-1a606320f0e7'
PORT = 'f84496b5-dc56-4727-87b1-aa06e2471737'
TENANT = 'c583ce78843344adbe5fd20f13620274'

NETWORK_TEMPLATE = (
    'heat_template_version: 2018-08-31\n'
    'description: {{ jinja_description }}\n'
    'parameters:\n'
    '  name: {type: string}\n'
    'resources: {}\n')
PORT_TEMPLATE = 'heat_template_version: 2018-08-31\nresources: {}\n'

NET_OUTPUTS = [{'output_key': 'id', 'output_value': 'net-uuid',
                'description': 'The network'}]

WAIT = 10.0  # seconds: a deadline, not a delay


def value(name, val):
    return {'param': name, 'type': 'value', 'value': val, 'resources': []}


def make_job(resource_type='network', resource_id=NET, version=1,
             action='create', params=None, dependency=(), suffix='abcde'):
    if params is None:
        params = [value('tenant_id', TENANT), value('name', 'net-1'),
                  value('heat_timeout', '5'),
                  value('jinja_description', 'A network')]
    return {'id': '%s:heat_worker:%s:%s:%d:%s' % (
                action, resource_type, resource_id, version, suffix),
            'action': action, 'handler': 'heat_worker',
            'resource_type': resource_type, 'resource_id': resource_id,
            'version': version, 'params': params,
            'dependency': list(dependency), 'on_failure': 'fail',
            'resource_input': {'tenant_id': TENANT}}


def port_job(**kw):
    """A port whose ``network_id`` is the network's ``id`` output."""
    return make_job('port', PORT, params=[
        value('tenant_id', TENANT),
        {'param': 'network_id', 'type': 'output_key', 'resources': [],
         'value': {'output_key': 'id', 'resource_type': 'network',
                   'resource_id': NET}}], **kw)


class FakeJobStore(object):
    """In memory, with the interface of :class:`store.JobStore`."""

    def __init__(self):
        self.lock = threading.Lock()
        self.snapshots = []     # the claims argument of each snapshot
        self.jobs = {}          # job id -> record (store.job_record)
        self.arrivals = {}      # job id -> arrival
        self.records = {}       # etcd key -> record
        self.versions = {}      # (type, id) -> recorded version
        self.finished = []      # (job id, records, status, error)
        self.marked = []        # (job id, status, error)
        self.finish_errors = []  # raised, in turn, by finish()
        self.revision = 100

    def intake(self, job, received_at):
        with self.lock:
            if job['id'] in self.jobs:
                return None, store.StoredJob(self.jobs[job['id']],
                                             self.arrivals[job['id']])
            self.revision += 1
            self.jobs[job['id']] = store.job_record(job, store.PENDING,
                                                    received_at)
            self.arrivals[job['id']] = self.revision
            return self.revision, None

    # A single agent owning every job it holds: no other agent's claims.
    owner = 'agent-1'

    def snapshot(self, since=None, claims=True):
        self.snapshots.append(claims)
        with self.lock:
            stored = sorted((store.StoredJob(r, self.arrivals[i])
                             for i, r in self.jobs.items()),
                            key=lambda s: s.arrival)
            owners = {i: self.owner for i, r in self.jobs.items()
                      if r['status'] == store.PENDING}
        return stored, owners if claims else None, self.revision

    def claim(self, job_id, previous=None):
        return True

    def outputs(self, resource_type, resource_id):
        record = self.records.get(records.job_state_key(resource_type,
                                                        resource_id))
        return None if record is None else record.get('heat_outputs') or []

    def has_records(self, resource_type, resource_id):
        return records.job_state_key(resource_type,
                                     resource_id) in self.records

    def finish(self, job, resource_records, status, received_at, error='',
               claimed=True, attempt=0):
        with self.lock:
            if self.finish_errors:
                raise self.finish_errors.pop(0)
            resource = (job['resource_type'], job['resource_id'])
            if self.versions.get(resource, 0) > job['version']:
                self.jobs[job['id']] = store.job_record(
                    job, store.SUPERSEDED, received_at)
                return False
            self.versions[resource] = job['version']
            self.records.update(resource_records)
            self.jobs[job['id']] = store.job_record(job, status,
                                                    received_at, error)
            self.finished.append((job['id'], resource_records, status,
                                  error))
            return True

    def mark(self, job, status, received_at, error='', claimed=True,
             attempt=0):
        with self.lock:
            self.jobs[job['id']] = store.job_record(job, status,
                                                    received_at, error)
            self.marked.append((job['id'], status, error))


class FakeStacks(object):
    """A Heat with the interface of :class:`stacks_mod.Stacks`.

    ``self.stacks`` maps a stack name to its current StackStatus; a test
    moves a stack to a terminal status with :meth:`set_status`.
    """

    def __init__(self):
        self.stacks = {}
        self.stack_outputs = {}
        self.calls = []
        self.errors = {}   # operation -> exception raised once
        self._next_id = 0

    def _maybe_fail(self, operation):
        error = self.errors.pop(operation, None)
        if error is not None:
            raise error

    def _new_id(self):
        self._next_id += 1
        return 'stack-%d' % self._next_id

    def find(self, name):
        self.calls.append(('find', name))
        self._maybe_fail('find')
        return self.stacks.get(name)

    def create(self, name, template, parameters, timeout_mins, tag):
        self.calls.append(('create', name, template, parameters,
                           timeout_mins, tag))
        self._maybe_fail('create')
        status = stacks_mod.StackStatus(self._new_id(), name,
                                        'CREATE_IN_PROGRESS', tags=[tag])
        self.stacks[name] = status
        return stacks_mod.StackStatus(status.id, name, status.status)

    def update(self, name, template, parameters, timeout_mins, tag):
        self.calls.append(('update', name, template, parameters,
                           timeout_mins, tag))
        self._maybe_fail('update')
        existing = self.stacks.get(name)
        stack_id = existing.id if existing else self._new_id()
        self.stacks[name] = stacks_mod.StackStatus(
            stack_id, name, 'UPDATE_IN_PROGRESS', tags=[tag])
        return stacks_mod.StackStatus(stack_id, name, 'UPDATE_IN_PROGRESS')

    def delete(self, name):
        self.calls.append(('delete', name))
        self._maybe_fail('delete')
        existing = self.stacks.get(name)
        if existing is None:
            return None
        self.stacks[name] = stacks_mod.StackStatus(
            existing.id, name, 'DELETE_IN_PROGRESS')
        return stacks_mod.StackStatus(existing.id, name,
                                      'DELETE_IN_PROGRESS')

    def statuses(self, wanted):
        self.calls.append(('statuses', sorted(s.id for s in wanted)))
        self._maybe_fail('statuses')
        by_id = {s.id: s for s in self.stacks.values()}
        return {s.id: by_id.get(s.id) or stacks_mod.StackStatus(
            s.id, s.name, stacks_mod.DELETE_COMPLETE) for s in wanted}

    def outputs(self, stack):
        self.calls.append(('outputs', stack.name))
        self._maybe_fail('outputs')
        return list(self.stack_outputs.get(stack.name, []))

    def set_status(self, name, status, reason=''):
        current = self.stacks[name]
        self.stacks[name] = stacks_mod.StackStatus(
            current.id, name, status, reason, current.tags)

    def operations(self, *names):
        return [c[0] for c in self.calls if not names or c[0] in names]


class FakeTemplateSource(object):

    def __init__(self, bodies):
        self.bodies = bodies
        self.requested = []

    def get(self, template_id):
        self.requested.append(template_id)
        if template_id not in self.bodies:
            raise exception.TemplateNotFound(
                template_id=template_id,
                etcd_key='/config/v2.0/heat_templates/' + template_id,
                path='not configured')
        return self.bodies[template_id]


class RunnerTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.config(group='agent', max_concurrent_jobs=4, record_writers=2,
                    dependency_timeout=600)
        self.config(group='heat', default_stack_timeout=42)
        self.store = FakeJobStore()
        self.stacks = FakeStacks()
        self.source = FakeTemplateSource({'network': NETWORK_TEMPLATE,
                                          'port': PORT_TEMPLATE})
        self.mappings = {}
        self.log = self.useFixture(fixtures.FakeLogger(
            name='esi_agent.jobs.runner'))
        # Idle pool threads notice a shutdown within 10 ms instead of 1 s.
        self.useFixture(fixtures.MockPatch(
            'futurist._thread.ThreadWorker.MAX_IDLE_FOR', 0.01))
        self.runner = self.make_runner()

    def make_runner(self):
        runner = runner_mod.JobRunner(CONF, self.store, self.stacks,
                                      self.source, self.mappings)
        self.addCleanup(runner.stop)
        # Keep the future of every task given to the runner's pools, so
        # that a test can wait until all the work it caused is done.
        self.futures = []
        for pool in (runner._heat_pool, runner._record_pool):
            pool.submit = self._keeping_futures(pool.submit)
        return runner

    def _keeping_futures(self, submit):
        def wrapper(fn, *args, **kwargs):
            future = submit(fn, *args, **kwargs)
            self.futures.append(future)
            return future
        return wrapper

    def add(self, job, resumed=False):
        """Take a job as the intake does; returns its JobEntry."""
        now = time.time()
        arrival, _stored = self.store.intake(job, now)
        entry = scheduler.JobEntry(job, arrival, now, resumed=resumed)
        self.runner.add(entry)
        return entry

    def drain(self):
        """Wait for every task given to the runner's pools.

        Tasks submitted by tasks are waited for too. None of them may let
        an exception escape: the runner must handle them all.
        """
        def all_done():
            # A task submits its follow-up before it is done itself, so
            # when every known future is done and none was added meanwhile,
            # the pools are idle.
            known = len(self.futures)
            return (all(f.done() for f in self.futures[:known])
                    and len(self.futures) == known)

        services.wait_for(all_done, WAIT,
                          what='the runner pools to finish their tasks')
        for future in self.futures:
            self.assertIsNone(future.exception())

    def run_pass(self):
        """One scheduling pass, and everything it starts."""
        self.runner._schedule_pass()
        self.drain()

    def reconcile(self, expected=1):
        """One poll of Heat, and the completions it starts."""
        self.assertEqual(expected, self.runner.reconcile())
        self.drain()

    def finish_stack(self, entry, status, reason='', outputs=None):
        """Move ``entry``'s stack to ``status`` and reconcile."""
        name = stacks_mod.stack_name(*entry.resource)
        self.stacks.set_status(name, status, reason)
        if outputs is not None:
            self.stacks.stack_outputs[name] = outputs
        self.reconcile(1)

    def only_finish(self):
        self.assertEqual(1, len(self.store.finished), self.store.finished)
        return self.store.finished[0]

    def retry_delays(self):
        """The delays, in s, of the jobs waiting to be retried."""
        now = time.monotonic()
        return sorted(round(due - now) for due, _s, _e in
                      self.runner._delayed)

    def release_retries(self):
        """End the backoff of every job waiting to be retried."""
        with self.runner._delayed_lock:
            self.runner._delayed[:] = [
                (0, seq, e) for _d, seq, e in self.runner._delayed]
        self.runner._release_delayed()


class TestCreate(RunnerTestCase):

    def test_ready_create_calls_heat(self):
        job = make_job()
        entry = self.add(job)
        self.run_pass()
        self.assertEqual(scheduler.IN_PROGRESS, entry.status)
        # Jinja2's default settings drop the final newline.
        rendered = NETWORK_TEMPLATE.replace(
            '{{ jinja_description }}', 'A network').rstrip('\n')
        self.assertEqual(
            [('create', 'network_' + NET, rendered,
              {'tenant_id': TENANT, 'name': 'net-1'}, 5,
              stacks_mod.job_tag(job['id']))],
            self.stacks.calls)
        self.assertEqual(['network'], self.source.requested)
        self.assertEqual(1, self.runner.in_flight())
        self.assertEqual([], self.store.finished)

    def test_default_stack_timeout(self):
        job = make_job(params=[value('name', 'n'),
                               value('jinja_description', 'd')])
        self.add(job)
        self.run_pass()
        self.assertEqual(42, self.stacks.calls[0][4])

    def test_template_from_the_mapping(self):
        self.mappings['network'] = 'ACnet_&Pkind'
        self.source.bodies['net_vxlan'] = PORT_TEMPLATE
        job = make_job()
        job['resource_input']['kind'] = 'vxlan'
        self.add(job)
        self.run_pass()
        self.assertEqual(['net_vxlan'], self.source.requested)
        self.assertEqual(PORT_TEMPLATE.rstrip('\n'),
                         self.stacks.calls[0][2])

    def test_modify_calls_update(self):
        job = make_job(action='modify', version=2)
        self.add(job)
        self.run_pass()
        self.assertEqual(['update'], self.stacks.operations())
        self.assertEqual(stacks_mod.job_tag(job['id']),
                         self.stacks.calls[0][5])

    def test_waiting_job_is_not_started(self):
        entry = self.add(make_job(dependency=['not-received']))
        self.run_pass()
        self.assertEqual(store.PENDING, entry.status)
        self.assertEqual([], self.stacks.calls)
        self.assertEqual(0, self.runner.in_flight())


class TestReconcile(RunnerTestCase):

    def test_nothing_in_flight(self):
        self.assertEqual(0, self.runner.reconcile())
        self.assertEqual([], self.stacks.calls)

    def test_non_terminal_status_is_left_alone(self):
        entry = self.add(make_job())
        self.run_pass()
        self.reconcile(0)
        self.assertEqual(scheduler.IN_PROGRESS, entry.status)
        self.assertEqual(1, self.runner.in_flight())
        self.assertEqual([], self.store.finished)

    def test_create_complete_writes_the_three_records(self):
        job = make_job()
        entry = self.add(job)
        self.run_pass()
        self.finish_stack(entry, 'CREATE_COMPLETE',
                          'Stack CREATE completed successfully',
                          outputs=NET_OUTPUTS)
        self.assertEqual(store.COMPLETED, entry.status)
        self.assertEqual('', entry.error)
        job_id, recs, status, error = self.only_finish()
        self.assertEqual((job['id'], store.COMPLETED, ''),
                         (job_id, status, error))
        self.assertEqual(records.stack_records(
            job, 'network_' + NET, 'CREATE_COMPLETE',
            'Stack CREATE completed successfully', NET_OUTPUTS), recs)
        state = recs[records.state_key('network', NET)]
        self.assertEqual('CREATE_COMPLETED', state['state']['worker_state'])
        self.assertEqual(0, self.runner.in_flight())
        self.assertEqual(1, self.stacks.operations().count('outputs'))

    def test_create_failed_fails_the_job_with_the_reason(self):
        reason = 'Resource CREATE failed: Forbidden: quota exceeded'
        job = make_job()
        entry = self.add(job)
        self.run_pass()
        self.finish_stack(entry, 'CREATE_FAILED', reason)
        self.assertEqual(store.FAILED, entry.status)
        self.assertEqual(reason, entry.error)
        job_id, recs, status, error = self.only_finish()
        self.assertEqual((store.FAILED, reason), (status, error))
        state = recs[records.state_key('network', NET)]
        self.assertEqual('CREATE_FAILED', state['state']['worker_state'])
        self.assertEqual(reason, state['error'])
        # The outputs of a failed stack are not read.
        self.assertNotIn('outputs', self.stacks.operations())

    def test_update_failed(self):
        entry = self.add(make_job(action='modify', version=2))
        self.run_pass()
        self.finish_stack(entry, 'UPDATE_FAILED', 'timed out')
        _id, recs, status, error = self.only_finish()
        self.assertEqual((store.FAILED, 'timed out'), (status, error))
        self.assertEqual('MODIFY_FAILED', recs[records.state_key(
            'network', NET)]['state']['worker_state'])

    def test_end_of_the_action_before_the_job_is_stale(self):
        # Heat answers an update before the stack shows it in progress: a
        # poll just after it still sees the end of the create.
        v1 = self.add(make_job())
        self.run_pass()
        self.finish_stack(v1, 'CREATE_COMPLETE', 'ok')
        v2 = self.add(make_job(action='modify', version=2))
        self.run_pass()
        name = 'network_' + NET
        updated = self.stacks.stacks[name]
        self.stacks.stacks[name] = stacks_mod.StackStatus(
            updated.id, name, 'CREATE_COMPLETE', 'ok',
            ['esi-agent', stacks_mod.job_tag(v1.id)])
        self.reconcile(0)
        self.assertEqual(scheduler.IN_PROGRESS, v2.status)
        self.stacks.stacks[name] = updated
        self.finish_stack(v2, 'UPDATE_COMPLETE', 'ok')
        self.assertEqual(store.COMPLETED, v2.status)
        self.assertEqual('UPDATE_COMPLETE', self.store.finished[-1][1][
            records.heat_stacks_key('network', NET)]['stack_status'])

    def test_delete_ignores_the_end_of_the_action_before(self):
        v1 = self.add(make_job())
        self.run_pass()
        self.finish_stack(v1, 'CREATE_COMPLETE', 'ok')
        v2 = self.add(make_job(action='delete', version=2))
        self.run_pass()
        name = 'network_' + NET
        self.stacks.set_status(name, 'CREATE_COMPLETE', 'ok')
        self.reconcile(0)
        self.assertEqual(scheduler.IN_PROGRESS, v2.status)
        self.finish_stack(v2, 'DELETE_COMPLETE')
        self.assertEqual(store.COMPLETED, v2.status)

    def test_unreadable_outputs_still_complete(self):
        entry = self.add(make_job())
        self.run_pass()
        self.stacks.errors['outputs'] = exception.HeatError(
            operation='show', stack='network_' + NET, reason='HTTP 500')
        self.finish_stack(entry, 'CREATE_COMPLETE', 'ok')
        _id, recs, status, _error = self.only_finish()
        self.assertEqual(store.COMPLETED, status)
        self.assertEqual([], recs[records.job_state_key(
            'network', NET)]['heat_outputs'])

    def test_heat_unavailable_keeps_jobs_in_flight(self):
        entry = self.add(make_job())
        self.run_pass()
        self.stacks.set_status('network_' + NET, 'CREATE_COMPLETE')
        self.stacks.errors['statuses'] = exception.HeatError(
            operation='list', stack='1 stacks', reason='HTTP 503')
        self.assertEqual(0, self.runner.reconcile())
        self.assertEqual(1, self.runner.in_flight())
        self.assertEqual(scheduler.IN_PROGRESS, entry.status)
        # The next poll finishes it.
        self.reconcile(1)
        self.assertEqual(store.COMPLETED, entry.status)

    def test_version_already_recorded_supersedes(self):
        self.store.versions[('network', NET)] = 5
        entry = self.add(make_job(version=3))
        self.run_pass()
        self.finish_stack(entry, 'CREATE_COMPLETE', 'ok')
        self.assertEqual(store.SUPERSEDED, entry.status)
        self.assertEqual([], self.store.finished)

    def test_vanished_stack_of_a_create_is_not_a_success(self):
        entry = self.add(make_job())
        self.run_pass()
        del self.stacks.stacks['network_' + NET]
        self.reconcile(1)
        self.assertEqual(store.FAILED, entry.status)


class TestDelete(RunnerTestCase):

    def test_delete_of_a_missing_stack_completes_at_once(self):
        job = make_job(action='delete', version=4)
        entry = self.add(job)
        self.run_pass()
        self.assertEqual(store.COMPLETED, entry.status)
        self.assertEqual([('delete', 'network_' + NET)], self.stacks.calls)
        self.assertEqual(0, self.runner.in_flight())
        job_id, recs, status, error = self.only_finish()
        self.assertEqual((job['id'], store.COMPLETED, ''),
                         (job_id, status, error))
        self.assertEqual({
            'stack_id': '', 'tenant_id': TENANT,
            'stack_status': 'DELETE_COMPLETE', 'output': [],
            'status_reason': '', 'id': 'network:' + NET},
            recs[records.heat_stacks_key('network', NET)])
        self.assertEqual({'state': {'worker_state': 'DELETE_COMPLETED',
                                    'heat_outputs': '[]',
                                    'orchestration_state':
                                        'DELETE_COMPLETE'},
                          'version': 4, 'error': ''},
                         recs[records.state_key('network', NET)])
        # No template is needed to delete.
        self.assertEqual([], self.source.requested)

    def test_delete_of_an_existing_stack(self):
        self.stacks.stacks['network_' + NET] = stacks_mod.StackStatus(
            'stack-0', 'network_' + NET, 'CREATE_COMPLETE')
        entry = self.add(make_job(action='logical_delete', version=2))
        self.run_pass()
        self.assertEqual(scheduler.IN_PROGRESS, entry.status)
        self.assertEqual([], self.store.finished)
        self.finish_stack(entry, 'DELETE_COMPLETE',
                          'Stack DELETE completed successfully')
        _id, recs, status, _error = self.only_finish()
        self.assertEqual(store.COMPLETED, status)
        self.assertEqual('', recs[records.heat_stacks_key(
            'network', NET)]['stack_id'])
        # Nothing to read from a deleted stack.
        self.assertNotIn('outputs', self.stacks.operations())


class TestResume(RunnerTestCase):

    def test_resumed_job_adopts_the_stack_it_created(self):
        job = make_job()
        self.stacks.stacks['network_' + NET] = stacks_mod.StackStatus(
            'stack-9', 'network_' + NET, 'CREATE_IN_PROGRESS',
            tags=['esi-agent', stacks_mod.job_tag(job['id'])])
        entry = self.add(job, resumed=True)
        self.run_pass()
        self.assertEqual(scheduler.IN_PROGRESS, entry.status)
        self.assertEqual(['find'], self.stacks.operations())
        self.assertEqual([], self.source.requested)
        self.finish_stack(entry, 'CREATE_COMPLETE', 'ok',
                          outputs=NET_OUTPUTS)
        _id, recs, status, _error = self.only_finish()
        self.assertEqual(store.COMPLETED, status)
        self.assertEqual(NET_OUTPUTS, recs[records.job_state_key(
            'network', NET)]['heat_outputs'])

    def test_resumed_job_without_its_tag_converges(self):
        job = make_job()
        self.stacks.stacks['network_' + NET] = stacks_mod.StackStatus(
            'stack-9', 'network_' + NET, 'CREATE_COMPLETE',
            tags=['esi-agent', stacks_mod.job_tag('another job')])
        self.add(job, resumed=True)
        self.run_pass()
        self.assertEqual(['find', 'create'], self.stacks.operations())

    def test_claims_are_read_every_quarter_lease(self):
        self.config(group='agent', lease_ttl=8, sync_interval=0.5)
        clock = self.useFixture(fixtures.MockPatch(
            'esi_agent.jobs.runner.time.monotonic', return_value=100.0))
        self.add(make_job())
        for now in (100.0, 100.5, 101.0, 101.9, 102.0, 102.5, 104.0):
            clock.mock.return_value = now
            self.runner.sync()
        # The first sync, then every lease_ttl / 4 = 2 s.
        self.assertEqual([True, False, False, False, True, False, True],
                         self.store.snapshots)

    def test_job_seen_by_sync_before_intake_is_ours_and_new(self):
        # The sync thread may read a just-stored job before the intake
        # hands it over; it then holds it as another agent's.
        job = make_job()
        arrival, _stored = self.store.intake(job, time.time())
        self.runner.index.add(scheduler.JobEntry(
            job, arrival, time.time(), resumed=True, mine=False))
        self.runner.add(scheduler.JobEntry(job, arrival, time.time()))
        known = self.runner.index.get(job['id'])
        self.assertTrue(known.mine)
        self.run_pass()
        # Run as a new job of this agent: no look for a stack to adopt.
        self.assertEqual(['create'], self.stacks.operations())

    def test_new_job_does_not_look_for_its_stack(self):
        self.add(make_job())
        self.run_pass()
        self.assertNotIn('find', self.stacks.operations())

    def test_resume_loads_unfinished_jobs(self):
        done = make_job('port', PORT)
        self.store.intake(done, 900.0)
        self.store.jobs[done['id']]['status'] = store.COMPLETED
        job = make_job()
        self.store.intake(job, 950.0)
        self.stacks.stacks['network_' + NET] = stacks_mod.StackStatus(
            'stack-9', 'network_' + NET, 'CREATE_IN_PROGRESS',
            tags=[stacks_mod.job_tag(job['id'])])
        self.runner.resume()
        self.assertEqual(2, len(self.runner.index))
        entry = self.runner.index.get(job['id'])
        self.assertTrue(entry.resumed)
        self.assertEqual(950.0, entry.received_at)
        self.assertFalse(self.runner.index.get(done['id']).resumed)
        self.assertEqual(store.COMPLETED,
                         self.runner.index.get(done['id']).status)
        self.run_pass()
        self.assertEqual(['find'], self.stacks.operations())
        self.assertEqual(scheduler.IN_PROGRESS, entry.status)


class TestRejected(RunnerTestCase):

    def assertRejected(self, entry, message):
        self.assertEqual(store.FAILED, entry.status)
        job_id, recs, status, error = self.only_finish()
        self.assertEqual((entry.id, store.FAILED, message),
                         (job_id, status, error))
        self.assertEqual(records.rejected_record(entry.job, message), recs)
        self.assertEqual(message, entry.error)

    def test_missing_template_is_rejected(self):
        job = make_job()
        del self.source.bodies['network']
        entry = self.add(job)
        self.run_pass()
        self.assertRejected(
            entry, 'Heat template network not found in etcd '
            '(/config/v2.0/heat_templates/network) nor in template_dir '
            '(not configured)')
        self.assertEqual([], self.stacks.calls)

    def test_render_error_is_rejected(self):
        self.source.bodies['network'] = 'a: {{ 1 / 0 }}\n'
        entry = self.add(make_job())
        self.run_pass()
        self.assertEqual(store.FAILED, entry.status)
        _id, recs, _status, error = self.only_finish()
        self.assertTrue(error.startswith(
            'Cannot render Heat template network: '), error)
        self.assertEqual('CREATE_FAILED', recs[records.state_key(
            'network', NET)]['state']['worker_state'])

    def test_heat_error_is_rejected(self):
        self.stacks.errors['create'] = exception.HeatError(
            operation='create', stack='network_' + NET,
            reason='Invalid template (HTTP 400)')
        entry = self.add(make_job())
        self.run_pass()
        self.assertRejected(entry, 'Heat create of stack network_%s '
                                   'failed: Invalid template (HTTP 400)'
                            % NET)
        self.assertEqual(0, self.runner.in_flight())

    def test_unexpected_error_is_rejected_without_details(self):
        self.stacks.errors['create'] = RuntimeError('secret detail')
        entry = self.add(make_job())
        self.run_pass()
        self.assertRejected(entry,
                            'The job failed: internal error: RuntimeError')

    def test_failed_dependency_is_rejected(self):
        net = self.add(make_job())
        port = self.add(port_job(dependency=[net.id]))
        net.status = store.FAILED
        net.error = 'quota'
        self.run_pass()
        self.assertRejected(port, 'Dependency %s failed: quota' % net.id)
        self.assertEqual([], self.stacks.calls)

    def test_dependency_timeout_is_rejected(self):
        self.config(group='agent', dependency_timeout=1)
        job = make_job(dependency=['never-sent'])
        arrival, _ = self.store.intake(job, 0.0)
        entry = scheduler.JobEntry(job, arrival, 0.0)
        self.runner.add(entry)
        self.run_pass()
        self.assertIn('waiting for job never-sent (not received)',
                      entry.error)


class TestEtcdFailures(RunnerTestCase):

    def test_etcd_error_in_finish_resumes_the_job(self):
        job = make_job()
        entry = self.add(job)
        self.run_pass()
        self.store.finish_errors.append(
            exception.EtcdError(reason='/kv/txn ConnectionFailedError'))
        self.finish_stack(entry, 'CREATE_COMPLETE', 'ok',
                          outputs=NET_OUTPUTS)
        self.assertEqual(0, self.runner.in_flight())
        self.assertEqual([], self.store.finished)
        self.assertIn('cannot go on now (etcd request failed: /kv/txn '
                      'ConnectionFailedError); retrying in 1.0 s',
                      self.log.output)
        # Not before its backoff is over.
        self.assertEqual([1], self.retry_delays())
        self.run_pass()
        self.assertNotEqual(store.PENDING, entry.status)
        self.release_retries()
        self.assertEqual(store.PENDING, entry.status)
        self.assertTrue(entry.resumed)
        # Next pass: the stack carries the job's tag, so it is adopted and
        # its (already terminal) status finishes the job.
        self.run_pass()
        self.assertEqual(1, self.stacks.operations().count('create'))
        self.reconcile(1)
        self.assertEqual(store.COMPLETED, entry.status)
        _id, recs, status, _error = self.only_finish()
        self.assertEqual(NET_OUTPUTS, recs[records.job_state_key(
            'network', NET)]['heat_outputs'])

    def test_unexpected_error_in_finish_resumes_the_job(self):
        entry = self.add(make_job())
        self.run_pass()
        self.store.finish_errors.append(KeyError('version'))
        self.finish_stack(entry, 'CREATE_COMPLETE', 'ok')
        self.release_retries()
        self.assertEqual(store.PENDING, entry.status)
        self.assertTrue(entry.resumed)
        self.assertIn('completion failed; retrying', self.log.output)

    def test_etcd_error_while_rejecting_resumes_the_job(self):
        del self.source.bodies['network']
        self.store.finish_errors.append(exception.EtcdError(reason='down'))
        entry = self.add(make_job())
        self.run_pass()
        self.release_retries()
        self.assertTrue(entry.resumed)
        self.assertEqual(store.PENDING, entry.status)
        self.run_pass()

    def test_etcd_error_reading_outputs_resumes_the_job(self):
        self.store.records[records.job_state_key('network', NET)] = {}
        self.store.outputs = _raise(exception.EtcdError(reason='down'))
        entry = self.add(port_job())
        self.run_pass()
        self.release_retries()
        self.assertTrue(entry.resumed)
        self.assertEqual(store.PENDING, entry.status)
        self.assertEqual([], self.stacks.calls)
        self.assertEqual([], self.store.finished)


class TestServiceOutages(RunnerTestCase):
    """Heat or etcd down: jobs wait, with backoff, for a bounded time."""

    def heat_down(self, operation='create'):
        return exception.HeatUnavailable(
            operation=operation, stack='network_' + NET,
            reason='Unable to establish connection')

    def test_heat_down_at_create_retries_the_job_with_backoff(self):
        entry = self.add(make_job())
        self.stacks.errors['create'] = self.heat_down()
        self.run_pass()
        self.assertEqual([], self.store.finished)
        self.assertEqual([1], self.retry_delays())
        self.release_retries()
        self.run_pass()
        # Created once Heat answers (the lookup first: it may have been).
        self.assertEqual(['create', 'find', 'create'],
                         self.stacks.operations('find', 'create'))
        self.finish_stack(entry, 'CREATE_COMPLETE', 'ok')
        self.assertEqual(store.COMPLETED, entry.status)

    def test_backoff_doubles_up_to_its_maximum(self):
        entry = self.add(make_job())
        delays = []
        for _attempt in range(7):
            self.stacks.errors['find' if entry.resumed else 'create'] = (
                self.heat_down())
            self.run_pass()
            delays += self.retry_delays()
            self.release_retries()
        self.assertEqual([1, 2, 4, 8, 16, 30, 30], delays)

    def test_job_fails_naming_heat_after_the_outage_timeout(self):
        self.config(group='agent', service_outage_timeout=60)
        entry = self.add(make_job())
        clock = self.useFixture(fixtures.MockPatch(
            'esi_agent.jobs.runner.time.monotonic', return_value=1000.0))
        self.stacks.errors['create'] = self.heat_down()
        self.run_pass()
        self.release_retries()
        clock.mock.return_value = 1061.0
        self.stacks.errors['find'] = self.heat_down('show')
        self.run_pass()
        self.assertEqual(store.FAILED, entry.status)
        _id, recs, status, error = self.only_finish()
        self.assertEqual(
            'Gave up after 61 s: Heat is unavailable (Heat show of stack '
            'network_%s failed: Unable to establish connection)' % NET,
            error)
        state = recs[records.state_key('network', NET)]
        self.assertEqual(error, state['error'])

    def test_job_fails_naming_etcd_after_the_outage_timeout(self):
        self.config(group='agent', service_outage_timeout=30)
        clock = self.useFixture(fixtures.MockPatch(
            'esi_agent.jobs.runner.time.monotonic', return_value=50.0))
        entry = self.add(make_job())
        self.run_pass()
        self.store.finish_errors.append(
            exception.EtcdError(reason='/kv/txn ConnectionFailedError'))
        self.finish_stack(entry, 'CREATE_COMPLETE', 'ok')
        self.assertEqual([], self.store.finished)
        clock.mock.return_value = 81.0
        self.release_retries()
        self.store.finish_errors.append(
            exception.EtcdError(reason='/kv/range ConnectionFailedError'))
        self.run_pass()
        self.reconcile(1)
        _id, _recs, status, error = self.only_finish()
        self.assertEqual(store.FAILED, status)
        # The last error of the outage.
        self.assertEqual('Gave up after 31 s: etcd is unavailable (etcd '
                         'request failed: /kv/range ConnectionFailedError)',
                         error)

    def test_heat_down_while_polling_then_back(self):
        entry = self.add(make_job())
        self.run_pass()
        self.stacks.errors['statuses'] = self.heat_down('list')
        self.reconcile(0)
        self.assertEqual(1, self.runner.in_flight())
        self.finish_stack(entry, 'CREATE_COMPLETE', 'ok')
        self.assertEqual(store.COMPLETED, entry.status)

    def test_in_flight_jobs_fail_when_heat_stays_down(self):
        self.config(group='agent', service_outage_timeout=120)
        clock = self.useFixture(fixtures.MockPatch(
            'esi_agent.jobs.runner.time.monotonic', return_value=0.0))
        entries = [self.add(make_job(resource_id=str(uuid.uuid4())))
                   for _ in range(2)]
        self.run_pass()
        self.stacks.errors['statuses'] = self.heat_down('list')
        self.reconcile(0)
        clock.mock.return_value = 121.0
        self.stacks.errors['statuses'] = self.heat_down('list')
        self.reconcile(0)
        self.assertEqual(0, self.runner.in_flight())
        self.assertEqual([store.FAILED] * 2, [e.status for e in entries])
        self.assertIn('Gave up after 121 s: Heat is unavailable',
                      self.store.finished[0][3])

    def test_heat_down_while_reading_outputs_finishes_later(self):
        entry = self.add(make_job())
        self.run_pass()
        self.stacks.errors['outputs'] = self.heat_down('show')
        self.finish_stack(entry, 'CREATE_COMPLETE', 'ok',
                          outputs=NET_OUTPUTS)
        # No records without the outputs.
        self.assertEqual([], self.store.finished)
        self.release_retries()
        self.run_pass()
        self.reconcile(1)
        _id, recs, status, _error = self.only_finish()
        self.assertEqual(store.COMPLETED, status)
        self.assertEqual(NET_OUTPUTS, recs[records.job_state_key(
            'network', NET)]['heat_outputs'])


def _raise(error):
    def fail(*args, **kwargs):
        raise error
    return fail


class TestNoStack(RunnerTestCase):

    def test_mapping_to_null_writes_read_complete(self):
        self.mappings['network'] = {'constant': None}
        job = make_job(version=2)
        entry = self.add(job)
        self.run_pass()
        self.assertEqual(store.COMPLETED, entry.status)
        job_id, recs, status, error = self.only_finish()
        self.assertEqual((job['id'], store.COMPLETED, ''),
                         (job_id, status, error))
        self.assertEqual(
            {records.state_key('network', NET): {
                'state': {'worker_state': 'READ_COMPLETE'},
                'version': 2, 'error': ''}}, recs)
        self.assertEqual([], self.stacks.calls)
        self.assertEqual([], self.source.requested)


class TestOrdering(RunnerTestCase):

    def test_dependent_runs_with_the_outputs_of_its_reference(self):
        net = self.add(make_job())
        port = self.add(port_job())
        self.run_pass()
        # The port waits for the network (an implicit dependency).
        self.assertEqual(store.PENDING, port.status)
        self.finish_stack(net, 'CREATE_COMPLETE', 'ok', outputs=NET_OUTPUTS)
        self.run_pass()
        self.assertEqual(scheduler.IN_PROGRESS, port.status)
        create = [c for c in self.stacks.calls if c[0] == 'create'][-1]
        self.assertEqual('port_' + PORT, create[1])
        self.assertEqual({'tenant_id': TENANT, 'network_id': 'net-uuid'},
                         create[3])

    def test_versions_of_one_resource_run_in_order(self):
        v1 = self.add(make_job())
        v2 = self.add(make_job(action='modify', version=2))
        self.run_pass()
        self.assertEqual(store.PENDING, v2.status)
        self.assertEqual(['create'], self.stacks.operations())
        self.finish_stack(v1, 'CREATE_COMPLETE', 'ok')
        self.run_pass()
        self.assertEqual(['create', 'update'],
                         self.stacks.operations('create', 'update'))

    def test_lower_version_after_a_higher_one_is_superseded(self):
        v2 = self.add(make_job(action='modify', version=2))
        self.run_pass()
        self.finish_stack(v2, 'UPDATE_COMPLETE', 'ok')
        v1 = self.add(make_job())
        self.run_pass()
        self.assertEqual(store.SUPERSEDED, v1.status)
        self.assertEqual([(v1.id, store.SUPERSEDED,
                           'superseded by a higher version')],
                         self.store.marked)
        self.assertEqual(['update'],
                         self.stacks.operations('create', 'update'))
