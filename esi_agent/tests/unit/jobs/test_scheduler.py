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

"""Unit tests of :mod:`esi_agent.jobs.scheduler` (SPEC section 3)."""

from esi_agent import exception
from esi_agent.jobs import scheduler
from esi_agent.jobs import store
from esi_agent.tests import base

NET = 'b62eefe0-0872-478d-adfe-1a606320f0e7'
PORT = 'f84496b5-dc56-4727-87b1-aa06e2471737'
SUBNET = 'cf9356ae-b4e1-4a91-8193-089fdc12173d'

RECEIVED_AT = 1000.0
TIMEOUT = 60


def make_job(resource_type, resource_id, version=1, action='create',
             dependency=(), refs=(), on_failure='fail', suffix='abcde'):
    """A job dict; ``refs`` are (type, id) its output_key params name."""
    params = [{'param': 'name', 'type': 'value', 'value': 'x'}]
    for i, (rtype, rid) in enumerate(refs):
        params.append({'param': 'ref%d' % i, 'type': 'output_key',
                       'value': {'output_key': 'id', 'resource_type': rtype,
                                 'resource_id': rid}})
    return {'id': '%s:heat_worker:%s:%s:%d:%s' % (
                action, resource_type, resource_id, version, suffix),
            'action': action, 'handler': 'heat_worker',
            'resource_type': resource_type, 'resource_id': resource_id,
            'version': version, 'params': params,
            'dependency': list(dependency), 'on_failure': on_failure}


class SchedulerTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.reset()

    def reset(self):
        """Start again with an empty index (for loops over cases)."""
        self.index = scheduler.JobIndex()
        self.records = set()
        self.has_records_calls = []
        self._arrival = 0

    def has_records(self, rtype, rid):
        self.has_records_calls.append((rtype, rid))
        return (rtype, rid) in self.records

    def add(self, job, status=store.PENDING, error='',
            received_at=RECEIVED_AT, arrival=None):
        """Add ``job`` to the index; arrival order is call order."""
        if arrival is None:
            self._arrival += 10
            arrival = self._arrival
        entry = scheduler.JobEntry(job, arrival, received_at, status=status,
                                   error=error)
        self.assertTrue(self.index.add(entry))
        return entry

    def evaluate(self, entry, now=RECEIVED_AT + 1, timeout=TIMEOUT):
        return scheduler.evaluate(entry, self.index, self.has_records, now,
                                  timeout)

    def assertReady(self, entry, **kw):
        decision = self.evaluate(entry, **kw)
        self.assertEqual(
            (scheduler.Decision.READY, [], None),
            (decision.kind, decision.waiting_for, decision.error))

    def assertWaits(self, entry, waiting_for, **kw):
        decision = self.evaluate(entry, **kw)
        self.assertEqual(scheduler.Decision.WAIT, decision.kind,
                         decision.error)
        self.assertEqual(waiting_for, decision.waiting_for)
        self.assertIsNone(decision.error)

    def assertFails(self, entry, error_class, message, **kw):
        decision = self.evaluate(entry, **kw)
        self.assertEqual(scheduler.Decision.FAIL, decision.kind,
                         decision.waiting_for)
        self.assertIsInstance(decision.error, error_class)
        self.assertEqual(message, str(decision.error))
        return decision


class TestJobEntry(SchedulerTestCase):

    def test_fields(self):
        job = make_job('port', PORT, version=3, dependency=['d1', 'd2'],
                       refs=[('network', NET), ('subnet', SUBNET),
                             ('network', NET)])
        entry = scheduler.JobEntry(job, 42, 12.5)
        self.assertEqual(job['id'], entry.id)
        self.assertEqual(('port', PORT), entry.resource)
        self.assertEqual(3, entry.version)
        self.assertEqual(42, entry.arrival)
        self.assertEqual(store.PENDING, entry.status)
        self.assertFalse(entry.resumed)
        self.assertEqual(['d1', 'd2'], entry.dependency)
        self.assertEqual([('network', NET), ('subnet', SUBNET)], entry.refs)

    def test_refs_in_list_params(self):
        job = make_job('port', PORT)
        job['params'].append({'param': 'jinja_subnets', 'type': 'list',
                              'value': [{'param': 'jinja_subnets',
                                         'type': 'output_key',
                                         'value': {'output_key': 'id',
                                                   'resource_type': 'subnet',
                                                   'resource_id': SUBNET}}]})
        self.assertEqual([('subnet', SUBNET)],
                         scheduler.JobEntry(job, 1, 0).refs)

    def test_reference_to_itself_is_not_a_dependency(self):
        job = make_job('port', PORT, refs=[('port', PORT), ('network', NET)])
        self.assertEqual([('network', NET)],
                         scheduler.JobEntry(job, 1, 0).refs)

    def test_missing_dependency_is_empty(self):
        job = make_job('port', PORT)
        job['dependency'] = None
        self.assertEqual([], scheduler.JobEntry(job, 1, 0).dependency)

    def test_fails_dependents(self):
        self.assertTrue(scheduler.JobEntry(
            make_job('port', PORT), 1, 0).fails_dependents)
        for on_failure in (None, 'ignore', 'FAIL'):
            self.assertFalse(scheduler.JobEntry(
                make_job('port', PORT, on_failure=on_failure), 1,
                0).fails_dependents, on_failure)


class TestJobIndex(SchedulerTestCase):

    def test_add_once(self):
        job = make_job('port', PORT)
        self.assertTrue(self.index.add(scheduler.JobEntry(job, 1, 0)))
        self.assertFalse(self.index.add(scheduler.JobEntry(job, 2, 0)))
        self.assertEqual(1, len(self.index))
        self.assertEqual(1, self.index.get(job['id']).arrival)

    def test_get_unknown(self):
        self.assertIsNone(self.index.get('nope'))

    def test_waiting_in_arrival_order(self):
        # Neither the order of the calls nor that of the ids is the order
        # of arrival.
        third = self.add(make_job('network', NET), arrival=30)
        self.add(make_job('subnet', SUBNET), arrival=5,
                 status=store.COMPLETED)
        first = self.add(make_job('port', PORT, 3), arrival=10)
        self.add(make_job('port', PORT, 2), arrival=15,
                 status=scheduler.RUNNING)
        second = self.add(make_job('port', PORT, 1), arrival=20)
        self.assertEqual([first, second, third], self.index.waiting())

    def test_waiting_follows_status_changes(self):
        a = self.add(make_job('network', NET))
        b = self.add(make_job('port', PORT))
        a.status = scheduler.RUNNING
        self.assertEqual([b], self.index.waiting())
        a.status = store.PENDING
        self.assertEqual([a, b], self.index.waiting())

    def test_of_resource_in_arrival_order(self):
        v2 = self.add(make_job('port', PORT, 2), arrival=20)
        self.add(make_job('network', NET), arrival=5)
        v1 = self.add(make_job('port', PORT, 1), arrival=10)
        self.assertEqual([v1, v2], list(self.index.of_resource(
            ('port', PORT))))
        self.assertEqual((), self.index.of_resource(('port', 'other')))

    def test_count_by_status(self):
        self.add(make_job('network', NET))
        self.add(make_job('port', PORT), status=store.COMPLETED)
        self.add(make_job('subnet', SUBNET), status=store.COMPLETED)
        self.assertEqual({store.PENDING: 1, store.COMPLETED: 2},
                         dict(self.index.count_by_status()))


class TestCandidates(SchedulerTestCase):
    """The pending jobs a scheduling pass after some events looks at."""

    def setUp(self):
        super().setUp()
        self.net = self.add(make_job('network', NET))
        self.subnet = self.add(make_job('subnet', SUBNET, refs=[
            ('network', NET)], dependency=[self.net.id]))
        self.port = self.add(make_job('port', PORT, refs=[
            ('subnet', SUBNET)]))
        self.net_v2 = self.add(make_job('network', NET, 2,
                                        action='modify'))
        self.other = self.add(make_job('network', 'other'))

    def test_new_jobs_once(self):
        self.assertEqual(
            [self.net, self.subnet, self.port, self.net_v2, self.other],
            self.index.candidates())
        self.assertEqual([], self.index.candidates())

    def test_a_change_concerns_dependents_readers_and_siblings(self):
        self.index.candidates()
        self.net.status = scheduler.RUNNING
        # Not the running job itself: only pending ones.
        self.assertEqual([self.subnet, self.net_v2],
                         self.index.candidates())
        self.subnet.status = store.COMPLETED
        self.assertEqual([self.port], self.index.candidates())

    def test_dependency_arriving(self):
        waiter = self.add(make_job('port', 'p2', dependency=['later']))
        self.index.candidates()
        job = make_job('gateway', 'g1')
        job['id'] = 'later'
        arrived = self.add(job)
        self.assertEqual([waiter, arrived], self.index.candidates())

    def test_owner_change(self):
        self.index.candidates()
        self.other.mine = False
        self.assertEqual([self.other], self.index.candidates())

    def test_records_found(self):
        self.index.candidates()
        self.index.touch_readers(('subnet', SUBNET))
        self.assertEqual([self.port], self.index.candidates())

    def test_everything(self):
        self.net.status = store.COMPLETED
        self.assertEqual([self.subnet, self.port, self.net_v2, self.other],
                         self.index.candidates(everything=True))
        self.assertEqual([], self.index.candidates())

    def test_entry_outside_an_index(self):
        entry = scheduler.JobEntry(make_job('port', 'x'), 1, 0)
        entry.status = scheduler.RUNNING
        entry.mine = False
        self.assertEqual(scheduler.RUNNING, entry.status)


class TestExplicitDependencies(SchedulerTestCase):

    def test_ready_without_dependencies(self):
        self.assertReady(self.add(make_job('network', NET)))
        self.assertEqual([], self.has_records_calls)

    def test_waits_for_a_job_not_received(self):
        entry = self.add(make_job('port', PORT, dependency=['net-job']))
        self.assertWaits(entry, ['job net-job (not received)'])

    def test_waits_for_a_pending_job(self):
        dep = self.add(make_job('network', NET))
        entry = self.add(make_job('port', PORT, dependency=[dep.id]))
        self.assertWaits(entry, ['job %s (pending)' % dep.id])

    def test_waits_for_an_active_job(self):
        dep = self.add(make_job('network', NET))
        entry = self.add(make_job('port', PORT, dependency=[dep.id]))
        for status in (scheduler.RUNNING, scheduler.IN_PROGRESS):
            dep.status = status
            self.assertWaits(entry, ['job %s (%s)' % (dep.id,
                                                      status.lower())])

    def test_dependency_arriving_later_counts(self):
        entry = self.add(make_job('port', PORT,
                                  dependency=[make_job('network', NET)['id']]))
        dep = self.add(make_job('network', NET))
        self.assertWaits(entry, ['job %s (pending)' % dep.id])
        dep.status = store.COMPLETED
        self.assertReady(entry)

    def test_ready_when_completed_or_superseded(self):
        for status in (store.COMPLETED, store.SUPERSEDED):
            self.reset()
            dep = self.add(make_job('network', NET), status=status)
            self.assertReady(self.add(make_job('port', PORT,
                                               dependency=[dep.id])))

    def test_waits_for_every_unfinished_dependency(self):
        done = self.add(make_job('network', NET), status=store.COMPLETED)
        pending = self.add(make_job('subnet', SUBNET))
        entry = self.add(make_job('port', PORT, dependency=[
            done.id, pending.id, 'missing']))
        self.assertWaits(entry, ['job %s (pending)' % pending.id,
                                 'job missing (not received)'])

    def test_failed_dependency_fails_the_job(self):
        dep = self.add(make_job('network', NET), status=store.FAILED,
                       error='Resource CREATE failed: quota')
        entry = self.add(make_job('port', PORT, dependency=[dep.id]))
        self.assertFails(entry, exception.DependencyFailed,
                         'Dependency %s failed: Resource CREATE failed: '
                         'quota' % dep.id)

    def test_failed_dependency_without_error_text(self):
        dep = self.add(make_job('network', NET), status=store.FAILED)
        entry = self.add(make_job('port', PORT, dependency=[dep.id]))
        self.assertFails(entry, exception.DependencyFailed,
                         'Dependency %s failed: failed' % dep.id)

    def test_failed_dependency_fails_even_while_waiting_for_others(self):
        dep = self.add(make_job('network', NET), status=store.FAILED,
                       error='boom')
        entry = self.add(make_job('port', PORT,
                                  dependency=['missing', dep.id]))
        self.assertFails(entry, exception.DependencyFailed,
                         'Dependency %s failed: boom' % dep.id)

    def test_failed_dependency_without_on_failure_fail_does_not_block(self):
        # Only ``on_failure: fail`` fails the dependents (SPEC 3).
        dep = self.add(make_job('network', NET, on_failure=None),
                       status=store.FAILED, error='boom')
        self.assertReady(self.add(make_job('port', PORT,
                                           dependency=[dep.id])))


class TestImplicitDependencies(SchedulerTestCase):

    def _port(self, **kw):
        return make_job('port', PORT, refs=[('network', NET)], **kw)

    def test_waits_for_records_when_no_job_is_known(self):
        entry = self.add(self._port())
        self.assertWaits(entry, ['the records of network %s' % NET])
        self.assertEqual([('network', NET)], self.has_records_calls)

    def test_ready_when_records_exist(self):
        self.records.add(('network', NET))
        self.assertReady(self.add(self._port()))

    def test_records_not_asked_while_something_else_is_awaited(self):
        # A job arrived before the network's, waiting for a dependency:
        # whether the network has records can wait (it costs a read).
        dep = self.add(make_job('subnet', SUBNET))
        entry = self.add(self._port(dependency=[dep.id]))
        later = self.add(make_job('network', NET))
        self.assertWaits(entry, ['job %s (pending)' % dep.id])
        self.assertEqual([], self.has_records_calls)
        dep.status = store.COMPLETED
        self.assertWaits(entry, ['the records of network %s' % NET])
        self.assertEqual([('network', NET)], self.has_records_calls)
        later.status = store.COMPLETED
        self.assertReady(entry)

    def test_records_asked_to_say_why_it_timed_out(self):
        entry = self.add(self._port(dependency=['missing']))
        self.assertWaits(entry, ['job missing (not received)'])
        self.assertFails(
            entry, exception.DependencyTimeout,
            'Gave up after 61 s waiting for job missing (not received), '
            'the records of network %s' % NET, now=RECEIVED_AT + TIMEOUT + 1)
        self.assertEqual([('network', NET)], self.has_records_calls)

    def test_waits_for_an_earlier_pending_job_of_the_resource(self):
        self.records.add(('network', NET))
        net = self.add(make_job('network', NET, action='modify', version=2))
        entry = self.add(self._port())
        self.assertWaits(entry, ['network %s (job %s pending)'
                                 % (NET, net.id)])

    def test_waits_for_an_earlier_active_job_of_the_resource(self):
        self.records.add(('network', NET))
        net = self.add(make_job('network', NET), status=scheduler.IN_PROGRESS)
        entry = self.add(self._port())
        self.assertWaits(entry, ['network %s (job %s in_progress)'
                                 % (NET, net.id)])

    def test_a_later_job_of_the_resource_does_not_block(self):
        self.records.add(('network', NET))
        entry = self.add(self._port())
        self.add(make_job('network', NET, action='modify', version=2))
        self.assertReady(entry)

    def test_ready_when_a_job_of_the_resource_completed(self):
        self.add(make_job('network', NET), status=store.COMPLETED)
        entry = self.add(self._port())
        self.assertReady(entry)
        # The completed job is enough: etcd is not asked.
        self.assertEqual([], self.has_records_calls)

    def test_fails_when_the_latest_finished_job_failed(self):
        self.add(make_job('network', NET), status=store.COMPLETED)
        failed = self.add(make_job('network', NET, action='modify',
                                   version=2),
                          status=store.FAILED, error='Stack UPDATE failed')
        entry = self.add(self._port())
        self.assertFails(entry, exception.DependencyFailed,
                         'Dependency network %s (job %s) failed: Stack '
                         'UPDATE failed' % (NET, failed.id))

    def test_ready_when_a_failure_was_followed_by_a_success(self):
        self.add(make_job('network', NET), status=store.FAILED, error='x')
        self.add(make_job('network', NET, action='modify', version=2),
                 status=store.COMPLETED)
        self.assertReady(self.add(self._port()))

    def test_superseded_job_is_not_a_finished_one(self):
        self.add(make_job('network', NET), status=store.SUPERSEDED)
        entry = self.add(self._port())
        self.assertWaits(entry, ['the records of network %s' % NET])

    def test_several_references(self):
        self.add(make_job('network', NET), status=store.COMPLETED)
        entry = self.add(make_job('port', PORT, refs=[('network', NET),
                                                      ('subnet', SUBNET)]))
        self.assertWaits(entry, ['the records of subnet %s' % SUBNET])
        self.records.add(('subnet', SUBNET))
        self.assertReady(entry)

    def test_reference_in_a_list_param(self):
        job = make_job('port', PORT)
        job['params'].append({'param': 'jinja_subnets', 'type': 'list',
                              'value': [{'param': 'jinja_subnets',
                                         'type': 'output_key',
                                         'value': {'output_key': 'id',
                                                   'resource_type': 'subnet',
                                                   'resource_id': SUBNET}}]})
        subnet = self.add(make_job('subnet', SUBNET))
        entry = self.add(job)
        self.assertWaits(entry, ['subnet %s (job %s pending)'
                                 % (SUBNET, subnet.id)])


class TestSameResource(SchedulerTestCase):

    def test_lower_version_arrived_earlier_blocks(self):
        v1 = self.add(make_job('port', PORT, 1))
        v2 = self.add(make_job('port', PORT, 2, action='modify'))
        self.assertReady(v1)
        self.assertWaits(v2, ['version 1 of the same resource (job %s)'
                              % v1.id])

    def test_lower_version_arrived_later_blocks_too(self):
        # Casts of one scenario are taken by several RPC threads at once:
        # versions run in order whatever order they arrived in.
        v2 = self.add(make_job('port', PORT, 2, action='modify'))
        v1 = self.add(make_job('port', PORT, 1))
        self.assertWaits(v2, ['version 1 of the same resource (job %s)'
                              % v1.id])
        self.assertReady(v1)

    def test_active_sibling_blocks_any_version(self):
        for status in scheduler.ACTIVE:
            self.reset()
            v3 = self.add(make_job('port', PORT, 3, action='modify'),
                          status=status)
            v1 = self.add(make_job('port', PORT, 1))
            self.assertWaits(v1, ['job %s of the same resource (%s)'
                                  % (v3.id, status.lower())])

    def test_completed_higher_version_supersedes(self):
        self.add(make_job('port', PORT, 2, action='modify'),
                 status=store.COMPLETED)
        v1 = self.add(make_job('port', PORT, 1))
        decision = self.evaluate(v1)
        self.assertEqual(scheduler.Decision.SUPERSEDED, decision.kind)
        self.assertIsNone(decision.error)

    def test_superseded_even_while_waiting_for_a_dependency(self):
        self.add(make_job('port', PORT, 2, action='modify'),
                 status=store.COMPLETED)
        v1 = self.add(make_job('port', PORT, 1, dependency=['missing']))
        self.assertEqual(scheduler.Decision.SUPERSEDED,
                         self.evaluate(v1).kind)

    def test_completed_lower_or_same_version_does_not_supersede(self):
        self.add(make_job('port', PORT, 1), status=store.COMPLETED)
        self.add(make_job('port', PORT, 2, suffix='first'),
                 status=store.COMPLETED)
        v2 = self.add(make_job('port', PORT, 2, suffix='again'))
        self.assertReady(v2)

    def test_failed_higher_version_supersedes(self):
        # Running v1 after v2 failed would take the stack back to an older
        # config that the version-guarded records could never show.
        self.add(make_job('port', PORT, 2), status=store.FAILED)
        decision = self.evaluate(self.add(make_job('port', PORT, 1)))
        self.assertEqual(scheduler.Decision.SUPERSEDED, decision.kind)

    def test_finished_lower_versions_do_not_block(self):
        for status in store.FINAL_STATUSES:
            self.add(make_job('port', PORT, 1, suffix=status),
                     status=status)
        self.assertReady(self.add(make_job('port', PORT, 2)))


class TestTimeout(SchedulerTestCase):

    def test_waits_up_to_the_timeout(self):
        entry = self.add(make_job('port', PORT, dependency=['missing']))
        self.assertWaits(entry, ['job missing (not received)'],
                         now=RECEIVED_AT + TIMEOUT)

    def test_fails_after_the_timeout_naming_what_it_waited_for(self):
        net = self.add(make_job('network', NET))
        entry = self.add(make_job('port', PORT, version=2,
                                  dependency=['missing'],
                                  refs=[('subnet', SUBNET)]))
        self.add(make_job('port', PORT, version=1, suffix='late'),
                 arrival=1)
        entry.dependency.append(net.id)
        self.assertFails(
            entry, exception.DependencyTimeout,
            'Gave up after 61 s waiting for job missing (not received), '
            'job %s (pending), version 1 of the same resource (job '
            'create:heat_worker:port:%s:1:late), the records of subnet %s'
            % (net.id, PORT, SUBNET),
            now=RECEIVED_AT + TIMEOUT + 1)

    def test_timeout_counts_from_reception(self):
        entry = self.add(make_job('port', PORT, dependency=['missing']),
                         received_at=RECEIVED_AT + 500)
        self.assertWaits(entry, ['job missing (not received)'],
                         now=RECEIVED_AT + 500 + TIMEOUT - 1)

    def test_ready_job_never_times_out(self):
        entry = self.add(make_job('network', NET))
        self.assertReady(entry, now=RECEIVED_AT + 10 * TIMEOUT)


class TestCycles(SchedulerTestCase):

    def _job(self, name, deps):
        job = make_job('port', name, dependency=deps)
        job['id'] = name
        return job

    def test_two_job_cycle(self):
        a = self.add(self._job('a', ['b']))
        b = self.add(self._job('b', ['a']))
        self.assertFails(a, exception.DependencyCycle,
                         'Dependency cycle: a -> b -> a')
        self.assertFails(b, exception.DependencyCycle,
                         'Dependency cycle: b -> a -> b')

    def test_self_dependency(self):
        a = self.add(self._job('a', ['a']))
        self.assertFails(a, exception.DependencyCycle,
                         'Dependency cycle: a -> a')

    def test_three_job_cycle_reached_through_a_branch(self):
        a = self.add(self._job('a', ['x', 'b']))
        self.add(self._job('x', ['missing']))
        self.add(self._job('b', ['c']))
        self.add(self._job('c', ['a']))
        self.assertFails(a, exception.DependencyCycle,
                         'Dependency cycle: a -> b -> c -> a')

    def test_chain_without_cycle_waits(self):
        a = self.add(self._job('a', ['b']))
        self.add(self._job('b', ['c']))
        self.add(self._job('c', ['b']))  # a cycle that a is not part of
        self.assertWaits(a, ['job b (pending)'])

    def test_cycle_through_a_finished_job_is_no_cycle(self):
        a = self.add(self._job('a', ['b']))
        b = self.add(self._job('b', ['a']), status=scheduler.RUNNING)
        self.assertWaits(a, ['job b (running)'])
        b.status = store.COMPLETED
        self.assertReady(a)

    def test_find_cycle_none(self):
        a = self.add(self._job('a', ['b']))
        self.assertIsNone(scheduler.find_cycle(a, self.index))
