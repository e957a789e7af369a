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
"""Outages of Heat, etcd and RabbitMQ while jobs run: none is lost.

Heat is the stand-in, stopped and started again on its port or told to
answer 503. etcd and RabbitMQ are real processes of the test's own
(stopped and restarted; the shared ones are left alone), serving agents
that run as processes.
"""

import logging
import subprocess

import fixtures

from esi_agent import etcd
from esi_agent.jobs import store
from esi_agent import records
from esi_agent.tests import base as test_base
from esi_agent.tests.functional import agent_process
from esi_agent.tests.functional import base
from esi_agent.tests.functional import jobs
from esi_agent.tests import services

ETCD_OUTAGE = 30.0


class TestHeatOutage(base.FunctionalTestCase):
    """An in-process agent; Heat stops answering, then comes back."""

    def setUp(self):
        super().setUp()
        template_dir = self.useFixture(fixtures.TempDir()).path
        jobs.write_templates(template_dir)
        self.config(template_dir=template_dir, group='templates')
        self.config(api_retries=1, group='heat')
        self.log = self.useFixture(fixtures.FakeLogger(
            name='esi_agent', level=logging.INFO,
            format='%(levelname)s %(name)s %(message)s'))

    def lines(self, fragment):
        return [line for line in self.log.output.splitlines()
                if fragment in line]

    def test_heat_down_then_back(self):
        self.start_agent()
        self.heat.stop()
        made = jobs.networks_with_ports(2)
        self.cast(*made)
        # Both networks were tried and are waiting for Heat.
        services.wait_for(
            lambda: len(self.lines('cannot go on now')) >= 2, 30,
            what='the jobs to wait for Heat')
        self.heat.start()
        statuses = self.wait_final([j['id'] for j in made], timeout=60)
        self.assertEqual({store.COMPLETED}, set(statuses.values()))
        self.assertEqual(1, max(self.heat.creates_by_name.values()))
        # One line when the outage begins, one when it ends.
        self.assertEqual(1, len(self.lines('Heat is unavailable')),
                         self.log.output)
        self.assertEqual(1, len(self.lines('Heat is available again')))
        self.assertEqual([], self.lines('Traceback'))

    def test_heat_not_answering_then_back(self):
        # A hung Heat: calls time out ([heat] timeout) and are retried.
        self.config(timeout=1, group='heat')
        self.start_agent()
        self.heat.pause()
        made = jobs.networks_with_ports(2, ports_each=1)
        self.cast(*made)
        services.wait_for(
            lambda: len(self.lines('cannot go on now')) >= 2, 30,
            what='the jobs to wait for Heat')
        self.assertIn('timed out', self.lines('Heat is unavailable')[0])
        self.heat.resume()
        statuses = self.wait_final([j['id'] for j in made], timeout=60)
        self.assertEqual({store.COMPLETED}, set(statuses.values()))
        # Heat carried out the creates it held; the agent's retries found
        # those stacks (its tag) instead of creating them twice.
        created = [op.stack_name for op in self.heat.operations
                   if op.action == 'CREATE']
        self.assertEqual(sorted(set(created)), sorted(created))
        self.assertEqual(len(made), len(created))

    def test_heat_answering_503(self):
        self.start_agent()
        self.heat.fail_next(6, status=503)
        made = jobs.networks_with_ports(3)
        self.cast(*made)
        statuses = self.wait_final([j['id'] for j in made], timeout=60)
        self.assertEqual({store.COMPLETED}, set(statuses.values()))
        self.assertEqual(1, max(self.heat.creates_by_name.values()))
        self.assertEqual(len(made), len(self.heat.creates_by_name))

    def test_job_fails_naming_heat_after_the_outage_timeout(self):
        self.config(service_outage_timeout=1, group='agent')
        self.config(api_retries=0, group='heat')
        self.start_agent()
        self.heat.stop()
        net = jobs.network()
        self.cast(net)
        self.assertEqual(store.FAILED, self.wait_final([net['id']])[
            net['id']])
        state = self.etcd.get_json(records.state_key(
            'network', net['resource_id']))
        self.assertEqual('CREATE_FAILED', state['state']['worker_state'])
        self.assertRegex(state['error'],
                         r'^Gave up after \d+ s: Heat is unavailable \(Heat '
                         r'(create|show) of stack network_\S+ failed: ')
        # The agent goes on serving once Heat is back.
        self.heat.start()
        other = jobs.network()
        self.cast(other)
        self.assertEqual(store.COMPLETED, self.wait_final([other['id']])[
            other['id']])


class TestEtcdOutage(agent_process.AgentProcessTestCase):

    def setUp(self):
        super().setUp()
        # An etcd of this test's own: it is stopped for 30 s.
        self.etcd_server = services.EtcdServer().start()
        self.addCleanup(self.etcd_server.cleanup)
        self.config(port=self.etcd_server.port, group='etcd')
        self.etcd = etcd.EtcdClient(test_base.CONF)

    def test_etcd_stopped_for_30_seconds(self):
        agent = self.start_agent_process(lease_ttl=5)
        before = jobs.networks_with_ports(10)
        self.cast(*before)
        services.wait_for(lambda: self.heat.calls['create'] >= 5, 60,
                          what='stacks in flight')
        self.etcd_server.stop()
        # Cast while etcd is down: the agent holds them until it can store
        # them.
        during = jobs.networks_with_ports(5)
        self.cast(*during)
        # The agent keeps running through the 30 s outage.
        self.assertRaises(subprocess.TimeoutExpired, agent.proc.wait,
                          ETCD_OUTAGE)
        self.etcd_server.start()
        self.assertAllCompletedOnce(before + during)
        log = agent.log()
        self.assertEqual(1, log.count('is unavailable ('), log[-5000:])
        self.assertIn('is available again after', log)
        self.assertNotIn('Traceback', log)


class TestRabbitRestart(agent_process.AgentProcessTestCase):

    def setUp(self):
        super().setUp()
        self.rabbit = services.PrivateRabbit()
        self.addCleanup(self.rabbit.cleanup)
        if not self.rabbit.available():
            self.skipTest('rabbitmq-server is not installed')
        self.rabbit.start()
        self.config(transport_url=self.rabbit.transport_url)

    def test_rabbitmq_restarted_during_a_run(self):
        agent = self.start_agent_process(
            transport_url=self.rabbit.transport_url)
        before = jobs.networks_with_ports(8)
        self.cast(*before)
        # Every job of the first wave is stored (the casts are consumed).
        services.wait_for(
            lambda: all(self.job_record(j['id']) for j in before), 60,
            what='the first jobs to be stored')
        self.rabbit.stop()
        self.rabbit.start()
        after = jobs.networks_with_ports(4)
        self.cast(*after)
        self.assertAllCompletedOnce(before + after)
        self.assertIsNone(agent.proc.poll())
        log = agent.log()
        self.assertNotIn('Traceback', log)
