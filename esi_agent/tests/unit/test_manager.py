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

"""Unit tests of :mod:`esi_agent.manager`.

etcd is a mock (``esi_agent.etcd.EtcdClient`` is patched) and Heat a stub:
no test here reaches either.
"""

import logging
from unittest import mock
import uuid

import fixtures
import oslo_messaging as messaging
from oslo_messaging import conffixture

from esi_agent import exception
from esi_agent import manager
from esi_agent import rpc
from esi_agent import rpcapi
from esi_agent.tests import base
from esi_agent.tests import services

CONF = base.CONF

JOB = {'id': 'create:heat_worker:port:f84496b5:1:3xe01', 'action': 'create',
       'handler': 'heat_worker', 'resource_type': 'port',
       'resource_id': 'f84496b5', 'version': 1, 'params': []}

WAIT = 10.0  # seconds: a deadline, not a delay


class FakeHeatClient(object):
    """Stands for a heatclient Client; the manager must not call it."""

    def __getattr__(self, name):
        raise AssertionError('Heat was called: %s' % name)


class ManagerTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        self.etcd_cls = self.useFixture(fixtures.MockPatch(
            'esi_agent.etcd.EtcdClient')).mock
        self.heat = FakeHeatClient()

    def make_manager(self, host='agent-1'):
        mgr = manager.AgentManager(host, CONF, heat=self.heat)
        self.addCleanup(mgr.stop)
        return mgr


class TestConstruction(ManagerTestCase):

    def test_target_version(self):
        self.assertEqual('1.0', manager.AgentManager.target.version)
        mgr = self.make_manager()
        self.assertEqual('1.0', mgr.target.version)

    def test_wiring(self):
        mgr = self.make_manager('agent-7')

        self.assertEqual('agent-7', mgr.host)
        self.etcd_cls.assert_called_once_with(CONF)
        self.assertIs(self.etcd_cls.return_value, mgr.etcd)
        self.assertIs(self.heat, mgr.stacks._client)

    def test_heat_client_from_config_by_default(self):
        with mock.patch('esi_agent.heat.client.get_client') as get_client:
            mgr = manager.AgentManager('agent-1', CONF)
            self.addCleanup(mgr.stop)

        get_client.assert_called_once_with(CONF)
        self.assertIs(get_client.return_value, mgr.stacks._client)


class TestProcessJob(ManagerTestCase):

    def setUp(self):
        super().setUp()
        self.mgr = self.make_manager()

    def test_hands_job_to_intake(self):
        with mock.patch.object(self.mgr.intake, 'accept') as accept:
            self.assertIsNone(self.mgr.process_job({}, JOB))
        accept.assert_called_once_with(JOB)

    def test_etcd_error_logged_not_raised(self):
        with mock.patch.object(
                self.mgr.intake, 'accept',
                side_effect=exception.EtcdError(reason='no leader')):
            self.assertIsNone(self.mgr.process_job({}, JOB))

        self.assertIn(JOB['id'], self.log.output)
        self.assertIn('etcd is unavailable', self.log.output)
        self.assertIn('no leader', self.log.output)

    def test_any_error_logged_not_raised(self):
        with mock.patch.object(self.mgr.intake, 'accept',
                               side_effect=RuntimeError('kaboom')):
            self.assertIsNone(self.mgr.process_job({}, JOB))

        self.assertIn('Unexpected error taking job', self.log.output)
        self.assertIn(JOB['id'], self.log.output)
        self.assertIn('kaboom', self.log.output)

    def test_error_with_unusable_job(self):
        for job in (None, ['a', 'list'], 'text', {'id': 'x' * 10000}):
            with mock.patch.object(self.mgr.intake, 'accept',
                                   side_effect=ValueError('bad')):
                self.assertIsNone(self.mgr.process_job({}, job))
        self.assertEqual(4, self.log.output.count('Unexpected error'))
        self.assertIn('taking job None', self.log.output)
        self.assertIn('x' * 128, self.log.output)
        self.assertNotIn('x' * 129, self.log.output)

    def test_invalid_job_does_not_raise(self):
        # Through the real intake: a job naming no resource is dropped.
        self.assertIsNone(self.mgr.process_job({}, {'id': 'j'}))
        self.assertEqual(1, self.mgr.intake.stats['dropped'])


class TestPeriodicTasks(ManagerTestCase):

    def test_periodic_tasks_call_reconcile(self):
        mgr = self.make_manager()
        with mock.patch.object(mgr.runner, 'reconcile',
                               return_value=0) as reconcile:
            mgr.periodic_tasks(None)
        reconcile.assert_called_once_with()

    def test_spacing_follows_reconcile_interval(self):
        self.config(reconcile_interval=7.5, group='agent')
        mgr = self.make_manager()

        with mock.patch.object(mgr.runner, 'reconcile',
                               return_value=3) as reconcile:
            # Due at once, then not again before 7.5 s.
            idle = mgr.periodic_tasks(None)
            self.assertEqual(7.5, idle)
            self.assertEqual(1, reconcile.call_count)

            idle = mgr.periodic_tasks(None)
            self.assertEqual(1, reconcile.call_count)
            self.assertGreater(idle, 7.0)
            self.assertLessEqual(idle, 7.5)
        self.assertIn('3 stacks reached a terminal status', self.log.output)

    def test_spacing_per_manager(self):
        self.config(reconcile_interval=0.5, group='agent')
        fast = self.make_manager()
        self.config(reconcile_interval=30, group='agent')
        slow = self.make_manager()

        with mock.patch.object(fast.runner, 'reconcile', return_value=0):
            self.assertEqual(0.5, fast.periodic_tasks(None))
        with mock.patch.object(slow.runner, 'reconcile', return_value=0):
            self.assertEqual(30, slow.periodic_tasks(None))
        # The class keeps the decorator's spacing.
        self.assertEqual(
            2, manager.AgentManager._periodic_spacing['reconcile_stacks'])

    def test_task_runs_again_once_due(self):
        self.config(reconcile_interval=0.1, group='agent')
        mgr = self.make_manager()
        with mock.patch.object(mgr.runner, 'reconcile',
                               return_value=0) as reconcile:
            mgr.periodic_tasks(None)
            services.wait_for(
                lambda: mgr.periodic_tasks(None) is not None and
                reconcile.call_count >= 2, WAIT, 0.02,
                what='a second reconcile')

    def test_reconcile_error_does_not_stop_tasks(self):
        mgr = self.make_manager()
        with mock.patch.object(mgr.runner, 'reconcile',
                               side_effect=RuntimeError('heat gone')):
            idle = mgr.periodic_tasks(None)
        self.assertEqual(CONF.agent.reconcile_interval, idle)
        self.assertIn('heat gone', self.log.output)


class TestManagerOverRpc(ManagerTestCase):

    def setUp(self):
        super().setUp()
        messaging_conf = self.useFixture(conffixture.ConfFixture(CONF))
        messaging_conf.transport_url = 'fake:/'
        rpc.cleanup()
        self.addCleanup(rpc.cleanup)

    def test_cast_reaches_manager(self):
        topic = 'esi-agent-test-%s' % uuid.uuid4().hex
        mgr = self.make_manager()
        seen = []
        mgr.intake.accept = seen.append
        server = rpc.get_server(
            CONF, messaging.Target(topic=topic, server='agent-1'), [mgr])
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)

        rpcapi.AgentAPI(topic=topic).process_job({}, JOB)

        services.wait_for(lambda: seen, WAIT, what='the job')
        self.assertEqual([JOB], seen)
