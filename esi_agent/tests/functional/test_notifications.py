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
"""Jobs finished by Heat's notifications, over real RabbitMQ.

The Heat stand-in sends Heat's notifications to the broker on a topic of
the test's own, so that agents of other test processes neither take them
nor send theirs here. The periodic reconcile is pushed an hour away: a job
that finishes did so from its notification.
"""

import uuid

import fixtures
from heatclient import client as heat_client
from keystoneauth1 import noauth
from keystoneauth1 import session

from esi_agent.heat import stacks
from esi_agent import records
from esi_agent.tests.fakes import heat_api
from esi_agent.tests.functional import base
from esi_agent.tests.functional import jobs
from esi_agent.tests import services

# Seconds a stack takes: the agent tracks it well before it ends.
STACK_TIME = 0.5
NO_RECONCILE = 3600


class NotificationTestCase(base.FunctionalTestCase):

    def setUp(self):
        self.notify_topic = 'esi-test-notifications-%s' % uuid.uuid4().hex[:8]
        super().setUp()
        template_dir = self.useFixture(fixtures.TempDir()).path
        jobs.write_templates(template_dir)
        self.config(template_dir=template_dir, group='templates')
        self.config(notifications_enabled=True,
                    notifications_topic=self.notify_topic, group='heat')
        # Runs after the agents stop: the queues outlive their consumers.
        self.addCleanup(services.delete_queues, [
            '%s.%s' % (self.notify_topic, priority)
            for priority in ('info', 'error')])

    def make_heat(self):
        return heat_api.FakeHeat(stack_time=STACK_TIME,
                                 notify_url=services.TRANSPORT_URL,
                                 notify_topic=self.notify_topic)

    def heat_client(self):
        sess = session.Session(auth=noauth.NoAuth(endpoint=self.heat.endpoint))
        self.addCleanup(sess.session.close)
        return heat_client.Client('1', session=sess,
                                  endpoint_override=self.heat.endpoint)

    def state(self, job):
        return self.etcd.get_json(records.state_key(job['resource_type'],
                                                    job['resource_id']))


class TestNotificationsOn(NotificationTestCase):

    def setUp(self):
        super().setUp()
        self.config(reconcile_interval=NO_RECONCILE, group='agent')
        self.agent = self.start_agent()

    def test_jobs_finish_from_notifications(self):
        net = jobs.network()
        port = jobs.port(net['resource_id'])
        self.cast(net, port)

        self.assertEqual({net['id']: 'COMPLETED', port['id']: 'COMPLETED'},
                         self.wait_final([net['id'], port['id']]))
        self.assertEqual(2, self.agent.notifications.endpoint.stats['taken'])
        # The port read the network's outputs, fetched once at completion.
        net_stack = stacks.stack_name('network', net['resource_id'])
        self.assertEqual(
            '%s/id' % net_stack,
            self.heat.operations[-1].parameters['virtual_network'])
        self.assertEqual(2, self.heat.calls['show'])
        self.assertEqual(0, self.heat.calls['list'])
        self.assertEqual('CREATE_COMPLETED',
                         self.state(port)['state']['worker_state'])

    def test_failure_notification_fails_the_job(self):
        self.heat.outcome = lambda op: heat_api.Outcome(status='FAILED')
        net = jobs.network()
        self.cast(net)

        self.assertEqual({net['id']: 'FAILED'}, self.wait_final([net['id']]))
        state = self.state(net)
        self.assertEqual('CREATE_FAILED', state['state']['worker_state'])
        self.assertEqual(heat_api.FAILED_REASON % 'CREATE', state['error'])

    def test_notifications_of_other_stacks_are_ignored(self):
        client = self.heat_client()
        # Not the agent's: untagged; tagged but not in flight here (another
        # agent's); a backup stack of the legacy engine.
        client.stacks.create(stack_name='other_untagged',
                             template=jobs.NETWORK_TEMPLATE,
                             parameters={'name': 'x', 'tenant_id': 't',
                                         'version': 1})
        client.stacks.create(stack_name='network_elsewhere',
                             template=jobs.NETWORK_TEMPLATE,
                             parameters={'name': 'x', 'tenant_id': 't',
                                         'version': 1},
                             tags='esi-agent,esi-job-0123456789abcdef')
        net = jobs.network()
        self.cast(net)
        self.wait_final([net['id']])

        endpoint = self.agent.notifications.endpoint
        services.wait_for(lambda: endpoint.stats['received'] == 3,
                          what='three terminal notifications')
        # The tagged one is kept a few seconds, in case its stack is one
        # that this agent is about to track (see runner.stack_event).
        self.assertEqual({'received': 3, 'taken': 1, 'not_tagged': 1,
                          'not_in_flight': 1, 'early_kept': 1},
                         endpoint.stats)
        self.assertIsNone(self.etcd.get_json(records.state_key(
            'network', 'elsewhere')))


class TestZeroDelayStacks(NotificationTestCase):
    """Stacks that end before Heat answers the create or update call.

    Their notifications may come before the agent tracks the stack; with
    no poll to fall back on, the jobs still finish: the runner keeps the
    early events.
    """

    def setUp(self):
        super().setUp()
        self.config(reconcile_interval=NO_RECONCILE, group='agent')
        self.agent = self.start_agent()

    def make_heat(self):
        return heat_api.FakeHeat(stack_time=0,
                                 notify_url=services.TRANSPORT_URL,
                                 notify_topic=self.notify_topic)

    def test_jobs_finish_without_a_poll(self):
        chain = []
        for _ in range(5):
            net = jobs.network()
            port = jobs.port(net['resource_id'])
            modify = jobs.network(rid=net['resource_id'], version=2,
                                  action='modify')
            chain += [net, port, modify]
        self.cast(*chain)

        self.assertEqual({j['id']: 'COMPLETED' for j in chain},
                         self.wait_final([j['id'] for j in chain]))
        stats = self.agent.notifications.endpoint.stats
        self.assertEqual(len(chain), stats['taken']
                         + stats.get('early_taken', 0))
        self.assertEqual(0, self.heat.calls['list'])

    def test_notification_before_the_call_returns(self):
        # Each create and update returns to the runner only once the
        # agent has received the stack's terminal notification.
        endpoint = self.agent.notifications.endpoint
        stacks = self.agent.manager.stacks
        calls = []

        def after_notification(call):
            def wrapper(*args, **kwargs):
                result = call(*args, **kwargs)
                calls.append(result)
                services.wait_for(
                    lambda: endpoint.stats.get('received', 0) >= len(calls),
                    what='the notification of %s' % result.name)
                return result
            return wrapper

        stacks.create = after_notification(stacks.create)
        stacks.update = after_notification(stacks.update)
        net = jobs.network()
        modify = jobs.network(rid=net['resource_id'], version=2,
                              action='modify')
        for job in (net, modify):
            self.cast(job)
            self.assertEqual({job['id']: 'COMPLETED'},
                             self.wait_final([job['id']]))
        self.assertEqual({'received': 2, 'not_in_flight': 2,
                          'early_kept': 2, 'early_taken': 2},
                         endpoint.stats)
        self.assertEqual(0, self.heat.calls['list'])


class TestNotificationsOff(NotificationTestCase):

    def test_reconcile_finishes_jobs_without_notifications(self):
        self.config(notifications_enabled=False, group='heat')
        self.config(reconcile_interval=0.2, group='agent')
        agent = self.start_agent()
        net = jobs.network()
        port = jobs.port(net['resource_id'])

        self.cast(net, port)

        self.assertEqual({net['id']: 'COMPLETED', port['id']: 'COMPLETED'},
                         self.wait_final([net['id'], port['id']]))
        self.assertIsNone(agent.notifications)
        self.assertNotIn('notifications', agent.stats())
        self.assertGreater(self.heat.calls['list'], 0)
        # The stand-in sent them all the same: start and end of each.
        services.wait_for(lambda: self.heat.notifications_sent == 4,
                          what='the stand-in to send 4 notifications')
