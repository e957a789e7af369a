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

"""The runner's etcd reads while scheduling, and early notifications.

- whether a referenced resource has records is read from etcd outside the
  index lock, once, and a negative answer is only read again after
  ``[agent] schedule_interval``;
- a terminal notification that comes before the runner tracks its stack
  (Heat ended the operation before the call returned) finishes the job
  when the stack is tracked.
"""

import threading

import fixtures

from esi_agent import exception
from esi_agent.heat import notifications
from esi_agent.heat import stacks as stacks_mod
from esi_agent.jobs import scheduler
from esi_agent.jobs import store
from esi_agent import records
from esi_agent.tests.unit.jobs import test_runner as base

NET = base.NET
NET_STATE = records.job_state_key('network', NET)


class CountingStore(base.FakeJobStore):
    """Counts has_records() and tells whether the index lock was free."""

    def __init__(self):
        super().__init__()
        self.asked = []
        self.outputs_read = []
        self.index_lock = None
        self.lock_was_free = []

    def outputs(self, resource_type, resource_id):
        self.outputs_read.append((resource_type, resource_id))
        return super().outputs(resource_type, resource_id)

    def has_records(self, resource_type, resource_id):
        self.asked.append((resource_type, resource_id))
        if self.index_lock is not None:
            free = []
            probe = threading.Thread(target=lambda: free.append(
                self.index_lock.acquire(timeout=0) and (
                    self.index_lock.release() or True)))
            probe.start()
            probe.join()
            self.lock_was_free.append(free[0])
        return super().has_records(resource_type, resource_id)


class CountingTestCase(base.RunnerTestCase):

    def setUp(self):
        super().setUp()
        self.store = CountingStore()
        self.runner = self.make_runner()
        self.store.index_lock = self.runner.index.lock
        self.now = 1000000.0
        self.useFixture(fixtures.MockPatch(
            'esi_agent.jobs.runner.time.time', lambda: self.now))

    def add(self, job, resumed=False, received_at=None):
        arrival, _stored = self.store.intake(job, self.now)
        entry = scheduler.JobEntry(job, arrival, received_at or self.now,
                                   resumed=resumed)
        self.runner.add(entry)
        return entry


class TestRecordsReads(CountingTestCase):

    def test_records_in_etcd_start_the_job_in_one_pass(self):
        self.store.records[NET_STATE] = {'heat_outputs': base.NET_OUTPUTS}
        entry = self.add(base.port_job())
        self.run_pass()
        self.assertEqual(scheduler.IN_PROGRESS, entry.status)
        self.assertEqual([('network', NET)], self.store.asked)
        self.assertEqual([True], self.store.lock_was_free)
        # Known for good: another job referring to it reads nothing.
        self.add(base.port_job(version=2, suffix='v2'))
        self.run_pass()
        self.assertEqual([('network', NET)], self.store.asked)

    def test_missing_records_read_once_per_schedule_interval(self):
        self.config(schedule_interval=1.0, group='agent')
        entry = self.add(base.port_job())
        for _ in range(3):
            self.run_pass()
        self.assertEqual(store.PENDING, entry.status)
        self.assertEqual([('network', NET)], self.store.asked)
        self.assertEqual([True], self.store.lock_was_free)
        # Written by someone else (the legacy worker, a seed): seen once
        # the interval has passed.
        self.store.records[NET_STATE] = {'heat_outputs': base.NET_OUTPUTS}
        self.now += 0.5
        self.run_pass()
        self.assertEqual(store.PENDING, entry.status)
        self.now += 0.6
        self.run_pass()
        self.assertEqual(2, len(self.store.asked))
        self.assertEqual(scheduler.IN_PROGRESS, entry.status)

    def test_records_from_a_completed_job_need_no_read(self):
        self.config(schedule_interval=1.0, group='agent')
        port = self.add(base.port_job())
        self.run_pass()
        self.assertEqual(1, len(self.store.asked))
        net = self.add(base.make_job())
        self.run_pass()
        self.finish_stack(net, 'CREATE_COMPLETE', outputs=base.NET_OUTPUTS)
        self.run_pass()
        self.assertEqual(scheduler.IN_PROGRESS, port.status)
        self.assertEqual(1, len(self.store.asked))

    def test_no_timeout_before_the_records_are_read(self):
        # Waited past the timeout, but the records are in etcd: it runs.
        self.config(dependency_timeout=60, group='agent')
        self.store.records[NET_STATE] = {'heat_outputs': base.NET_OUTPUTS}
        entry = self.add(base.port_job(), received_at=self.now - 61)
        self.run_pass()
        self.assertEqual(scheduler.IN_PROGRESS, entry.status)

    def test_timeout_once_the_records_are_known_missing(self):
        self.config(dependency_timeout=60, group='agent')
        entry = self.add(base.port_job(), received_at=self.now - 61)
        # Read, then decided in the same call.
        self.run_pass()
        self.assertEqual(store.FAILED, entry.status)
        self.assertIn('the records of network %s' % NET, entry.error)
        self.assertEqual(1, len(self.store.asked))

    def test_no_timeout_for_a_second_job_reading_the_same_resource(self):
        # Two jobs wait for the records of one resource, unknown until the
        # read after the pass: neither times out on that account.
        self.config(dependency_timeout=60, group='agent')
        self.store.records[NET_STATE] = {'heat_outputs': base.NET_OUTPUTS}
        first = self.add(base.port_job(), received_at=self.now - 61)
        second = self.add(base.make_job('port', 'p2', params=[
            base.value('tenant_id', base.TENANT),
            {'param': 'network_id', 'type': 'output_key', 'resources': [],
             'value': {'output_key': 'id', 'resource_type': 'network',
                       'resource_id': NET}}]), received_at=self.now - 61)
        self.run_pass()
        self.assertEqual(scheduler.IN_PROGRESS, first.status)
        self.assertEqual(scheduler.IN_PROGRESS, second.status)
        self.assertEqual([('network', NET)], self.store.asked)

    def test_timeout_with_full_passes_an_interval_apart(self):
        # Each full pass finds the last answer expired: the job still
        # fails, in the pass that reads it again.
        self.config(dependency_timeout=60, schedule_interval=1.0,
                    group='agent')
        entry = self.add(base.port_job())
        self.run_pass()
        self.now += 61
        self.run_pass()
        self.assertEqual(store.FAILED, entry.status)
        self.assertEqual(2, len(self.store.asked))

    def test_etcd_error_counts_as_missing_until_the_interval(self):
        self.store.has_records = base._raise(
            exception.EtcdError(reason='down'))
        entry = self.add(base.port_job())
        self.run_pass()
        self.run_pass()
        self.assertEqual(store.PENDING, entry.status)
        self.assertEqual(1, len(self.runner._no_records))


class TestIncrementalPasses(base.RunnerTestCase):
    """A pass after an event looks only at the jobs it may concern."""

    def setUp(self):
        super().setUp()
        self.evaluated = []
        real = scheduler.evaluate

        def evaluate(entry, *args, **kwargs):
            self.evaluated.append(entry)
            return real(entry, *args, **kwargs)

        self.useFixture(fixtures.MockPatch(
            'esi_agent.jobs.scheduler.evaluate', side_effect=evaluate))

    def test_only_concerned_jobs(self):
        others = [self.add(base.make_job('network', 'n%d' % i,
                                         dependency=['missing']))
                  for i in range(5)]
        net = self.add(base.make_job())
        port = self.add(base.port_job(dependency=[net.id]))
        self.runner._schedule_pass(full=True)
        self.assertEqual(set(others + [net, port]), set(self.evaluated))
        self.drain()
        del self.evaluated[:]
        self.finish_stack(net, 'CREATE_COMPLETE', outputs=base.NET_OUTPUTS)
        self.runner._schedule_pass(full=False)
        self.assertEqual([port], self.evaluated)
        self.drain()
        self.assertEqual(scheduler.IN_PROGRESS, port.status)
        # Nothing changed since: nothing to look at.
        del self.evaluated[:]
        self.runner._schedule_pass(full=False)
        self.assertEqual([], self.evaluated)
        self.runner._schedule_pass(full=True)
        self.assertEqual(others, self.evaluated)

    def test_records_found_in_etcd(self):
        self.store.records[NET_STATE] = {'heat_outputs': base.NET_OUTPUTS}
        port = self.add(base.port_job())
        self.runner._schedule_pass(full=False)
        self.drain()
        # Evaluated, read, evaluated again: started in one call.
        self.assertEqual([port, port], self.evaluated)
        self.assertEqual(scheduler.IN_PROGRESS, port.status)


class TestOutputsReads(CountingTestCase):

    def port(self, version=1):
        entry = self.add(base.port_job(version=version,
                                       suffix='v%d' % version))
        self.run_pass()
        self.assertEqual(scheduler.IN_PROGRESS, entry.status)
        self.finish_stack(entry, 'CREATE_COMPLETE')
        creates = [c for c in self.stacks.calls if c[0] == 'create']
        return creates[-1][3]['network_id']

    def test_read_once_for_all_dependents(self):
        self.store.records[NET_STATE] = {'heat_outputs': base.NET_OUTPUTS}
        self.assertEqual('net-uuid', self.port(1))
        self.assertEqual('net-uuid', self.port(2))
        self.assertEqual([('network', NET)], self.store.outputs_read)

    def test_read_again_when_a_job_of_the_resource_finished(self):
        self.store.records[NET_STATE] = {'heat_outputs': base.NET_OUTPUTS}
        self.assertEqual('net-uuid', self.port(1))
        net = self.add(base.make_job(action='modify', version=2))
        self.run_pass()
        self.finish_stack(net, 'UPDATE_COMPLETE', outputs=[
            {'output_key': 'id', 'output_value': 'net-2'}])
        self.assertEqual('net-2', self.port(2))
        self.assertEqual(2, len(self.store.outputs_read))

    def test_read_again_when_another_agent_finished_one(self):
        self.store.records[NET_STATE] = {'heat_outputs': base.NET_OUTPUTS}
        self.assertEqual('net-uuid', self.port(1))
        # Synced from etcd: another agent's job recorded version 3.
        other = scheduler.JobEntry(base.make_job(version=3, suffix='x'),
                                   10 ** 6, self.now,
                                   status=store.COMPLETED, mine=False)
        self.runner.index.add(other)
        self.store.records[NET_STATE] = {'heat_outputs': [
            {'output_key': 'id', 'output_value': 'net-3'}]}
        self.assertEqual('net-3', self.port(2))
        self.assertEqual(2, len(self.store.outputs_read))

    def test_bounded(self):
        self.useFixture(fixtures.MockPatch(
            'esi_agent.jobs.runner.OUTPUTS_CACHE_SIZE', 1))
        for rid in ('a', 'b'):
            self.store.records[records.job_state_key('network', rid)] = {
                'heat_outputs': []}
            self.runner._lookup_outputs('network', rid)
        self.assertEqual([('network', 'b')], list(self.runner._outputs))


class NotifyingStacks(base.FakeStacks):
    """A Heat whose stacks end before the create or update returns.

    The terminal notification reaches the runner first.
    """

    def __init__(self):
        super().__init__()
        self.runner = None
        self.ending = 'COMPLETE'
        self.taken = []

    def _end_now(self, name):
        current = self.stacks[name]
        action = current.status.split('_')[0]
        self.set_status(name, '%s_%s' % (action, self.ending))
        ended = self.stacks[name]
        self.taken.append(self.runner.stack_event(
            ended.id, name, ended.status, 'done', tags=list(ended.tags)))

    def create(self, name, *args):
        status = super().create(name, *args)
        self._end_now(name)
        return status

    def update(self, name, *args):
        status = super().update(name, *args)
        self._end_now(name)
        return status


class TestEarlyNotifications(base.RunnerTestCase):

    def setUp(self):
        super().setUp()
        self.stacks = NotifyingStacks()
        self.runner = self.make_runner()
        self.stacks.runner = self.runner

    def test_notification_before_the_call_returns_finishes_the_job(self):
        entry = self.add(base.make_job())
        self.run_pass()
        self.assertEqual([False], self.stacks.taken)
        self.assertEqual(store.COMPLETED, entry.status)
        self.assertEqual(['create'], self.stacks.operations(
            'create', 'statuses'))
        self.assertEqual({'kept': 1, 'taken': 1},
                         dict(self.runner.early_events.stats))
        self.assertEqual(0, len(self.runner.early_events))
        self.assertEqual(0, self.runner.in_flight())

    def test_failed_stack(self):
        self.stacks.ending = 'FAILED'
        entry = self.add(base.make_job())
        self.run_pass()
        self.assertEqual(store.FAILED, entry.status)

    def test_late_event_of_an_earlier_job_is_not_taken(self):
        # The create's notification comes after the poll finished its job
        # and the update of the next version has started: it is kept,
        # but the update's job does not take it.
        self.stacks = base.FakeStacks()
        self.runner = self.make_runner()
        first = self.add(base.make_job())
        self.run_pass()
        name = stacks_mod.stack_name('network', NET)
        self.finish_stack(first, 'CREATE_COMPLETE')
        self.assertEqual(store.COMPLETED, first.status)
        created = self.stacks.stacks[name]
        self.assertFalse(self.runner.stack_event(
            created.id, name, 'CREATE_COMPLETE', '', tags=created.tags))
        second = self.add(base.make_job(action='modify', version=2,
                                        suffix='v2'))
        self.run_pass()
        self.assertEqual(scheduler.IN_PROGRESS, second.status)
        self.assertEqual(1, self.runner.in_flight())
        self.assertEqual({'kept': 1, 'stale': 1},
                         dict(self.runner.early_events.stats))


class TestEarlyEvents(base.base.TestCase):

    def setUp(self):
        super().setUp()
        self.now = 100.0
        self.events = notifications.EarlyEvents(
            ttl=10, size=3, clock=lambda: self.now)

    def event(self, name='n', stack_id='s-1', status='CREATE_COMPLETE',
              tags=('esi-agent', 'esi-job-1')):
        return stacks_mod.StackStatus(stack_id, name, status, '', tags)

    def started(self, name='n', stack_id='s-1',
                status='CREATE_IN_PROGRESS'):
        return stacks_mod.StackStatus(stack_id, name, status)

    def test_taken_once(self):
        self.events.keep(self.event())
        self.assertEqual('CREATE_COMPLETE', self.events.take(
            self.started(), 'esi-job-1', 100.0).status)
        self.assertIsNone(self.events.take(self.started(), 'esi-job-1',
                                           100.0))

    def test_must_match(self):
        mismatches = [
            (self.started(stack_id='s-2'), 'esi-job-1', 0),   # other stack
            (self.started(status='UPDATE_IN_PROGRESS'), 'esi-job-1', 0),
            (self.started(), 'esi-job-2', 0),                 # other job
            (self.started(), 'esi-job-1', 100.5),             # before start
            (self.started(), 'esi-job-1', None),              # not started
        ]
        for started, tag, since in mismatches:
            self.events.keep(self.event())
            self.assertIsNone(self.events.take(started, tag, since),
                              (started.id, started.status, tag, since))
        self.assertEqual(5, self.events.stats['stale'])
        self.assertEqual(0, len(self.events))

    def test_without_tags_not_taken(self):
        self.events.keep(self.event(tags=None))
        self.assertIsNone(self.events.take(self.started(), 'esi-job-1', 0))

    def test_delete_needs_no_tag(self):
        # A delete leaves the stack the tags of the job before.
        self.events.keep(self.event(status='DELETE_COMPLETE',
                                    tags=['esi-agent', 'esi-job-0']))
        self.assertIsNotNone(self.events.take(
            self.started(status='DELETE_IN_PROGRESS'), 'esi-job-1', 0))

    def test_expires(self):
        self.events.keep(self.event())
        self.now += 10
        self.assertIsNone(self.events.take(self.started(), 'esi-job-1', 0))

    def test_bounded(self):
        for i in range(5):
            self.events.keep(self.event(name='n%d' % i))
            self.now += 1
        self.assertEqual(3, len(self.events))
        self.assertIsNone(self.events.take(self.started(name='n1'),
                                           'esi-job-1', 0))
        self.assertIsNotNone(self.events.take(self.started(name='n4'),
                                              'esi-job-1', 0))

    def test_expired_dropped_when_keeping(self):
        self.events.keep(self.event(name='old'))
        self.now += 11
        self.events.keep(self.event(name='new'))
        self.assertEqual(1, len(self.events))

    def test_latest_per_stack(self):
        self.events.keep(self.event(status='CREATE_FAILED'))
        self.events.keep(self.event())
        self.assertEqual(1, len(self.events))
        self.assertEqual('CREATE_COMPLETE', self.events.take(
            self.started(), 'esi-job-1', 0).status)

    def test_endpoint_reports_the_runner_counts(self):
        runner = type('Runner', (), {})()
        runner.early_events = self.events
        runner.stack_event = lambda *a, **kw: False
        endpoint = notifications.StackEndpoint(runner, 'esi-agent')
        self.events.keep(self.event())
        self.events.take(self.started(), 'esi-job-1', 0)
        self.assertEqual({'early_kept': 1, 'early_taken': 1},
                         endpoint.stats)
