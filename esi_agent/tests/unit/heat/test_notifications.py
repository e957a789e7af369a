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

"""Unit tests of :mod:`esi_agent.heat.notifications`.

The payloads are those a real Heat 27 sent (captured from the one of
tools/services/heat). The listener tests run over oslo.messaging's
in-process ``fake:`` transport, fed by the Heat stand-in.
"""

import copy
import logging
import threading
from unittest import mock
import uuid

import fixtures
from heatclient import client as heat_client
from keystoneauth1 import noauth
from keystoneauth1 import session
import oslo_messaging as messaging
from oslo_messaging import conffixture

from esi_agent.heat import notifications
from esi_agent import rpc
from esi_agent import service
from esi_agent.tests import base
from esi_agent.tests.fakes import heat_api
from esi_agent.tests import services

CONF = base.CONF
WAIT = 10.0  # seconds: a deadline, not a delay

STACK_ID = '5c98226b-f27c-497b-ada7-ed06f4dedc73'
NAME = 'port_f84496b5-dc56-4727-87b1-aa06e2471737'

# orchestration.stack.create.end, as Heat 27 sends it (noauth).
CREATE_END = {
    'create_at': '2026-12-04T21:12:26Z',
    'description': 'capture test',
    'stack_identity': STACK_ID,
    'stack_name': NAME,
    'state': 'CREATE_COMPLETE',
    'state_reason': 'Stack CREATE completed successfully',
    'tags': ['esi-agent', 'esi-job-1'],
    'tenant_id': 'admin',
    'updated_at': None,
    'user_id': 'admin',
    'user_identity': 'admin',
    'username': 'admin',
}

# orchestration.stack.create.error (ERROR priority) of an untagged stack.
CREATE_ERROR = dict(
    CREATE_END, stack_identity='90369e32-392e-483c-8a2e-eed4c319d41f',
    stack_name='cap-bad', state='CREATE_FAILED', tags=[],
    state_reason='Resource CREATE failed: ValueError: resources.b: Test '
                 'Resource failed b')

PUBLISHER = 'orchestration.esi-agent-heat'

TEMPLATE = 'heat_template_version: 2018-08-31\nresources: {}\n'


def payload(**changes):
    body = copy.deepcopy(CREATE_END)
    body.update(changes)
    return body


class RecordingRunner(object):
    """Stands for the JobRunner: records stack_event() calls."""

    def __init__(self, takes=True):
        self.takes = takes
        self.events = []
        self.tags = []
        self.lock = threading.Lock()

    def stack_event(self, stack_id, stack_name, stack_status, reason='',
                    tags=None):
        with self.lock:
            self.events.append((stack_id, stack_name, stack_status, reason))
            self.tags.append(tags)
        if isinstance(self.takes, Exception):
            raise self.takes
        return self.takes


class TestParse(base.TestCase):

    def test_heat_payload(self):
        event = notifications.parse(CREATE_END)

        self.assertEqual(STACK_ID, event.stack_id)
        self.assertEqual(NAME, event.stack_name)
        self.assertEqual('CREATE_COMPLETE', event.state)
        self.assertEqual('Stack CREATE completed successfully', event.reason)
        self.assertEqual(['esi-agent', 'esi-job-1'], event.tags)

    def test_arn_identity(self):
        arn = 'arn:openstack:heat::admin:stacks/%s/%s' % (NAME, STACK_ID)
        self.assertEqual(STACK_ID, notifications.parse(
            payload(stack_identity=arn)).stack_id)

    def test_dict_identity(self):
        identity = {'stack_id': STACK_ID, 'stack_name': NAME,
                    'tenant': 'admin', 'path': ''}
        self.assertEqual(STACK_ID, notifications.parse(
            payload(stack_identity=identity)).stack_id)

    def test_stack_id_of(self):
        for identity in (None, '', 42, {}, 'arn:openstack:heat::p:stacks/x',
                         'arn:openstack:heat::p:stacks/x/',
                         'arn:openstack:heat::p:other/x/y'):
            self.assertIsNone(notifications.stack_id_of(identity),
                              identity)

    def test_malformed(self):
        for body in (None, [], 'x', payload(stack_identity=None),
                     payload(stack_name=''), payload(stack_name=None),
                     payload(state=None)):
            self.assertIsNone(notifications.parse(body), body)

    def test_optional_fields(self):
        body = payload()
        del body['tags']
        body['state_reason'] = None
        event = notifications.parse(body)
        self.assertIsNone(event.tags)
        self.assertEqual('', event.reason)

    def test_tags_as_text(self):
        self.assertEqual(['esi-agent', 'x'], notifications.parse(
            payload(tags='esi-agent,x')).tags)


class TestFilterRule(base.TestCase):

    def match(self, publisher_id, event_type):
        return notifications.StackEndpoint.filter_rule.match(
            {}, publisher_id, event_type, {}, CREATE_END)

    def test_terminal_stack_events(self):
        for action in ('create', 'update', 'delete', 'rollback', 'suspend',
                       'check'):
            for suffix in ('end', 'error'):
                event_type = 'orchestration.stack.%s.%s' % (action, suffix)
                self.assertTrue(self.match(PUBLISHER, event_type),
                                event_type)

    def test_other_events(self):
        for event_type in ('orchestration.stack.create.start',
                           'orchestration.autoscaling.end',
                           'orchestration.stack.end',
                           'compute.instance.create.end',
                           'orchestration.stack.create.end.extra'):
            self.assertFalse(self.match(PUBLISHER, event_type), event_type)

    def test_other_publishers(self):
        event_type = 'orchestration.stack.create.end'
        self.assertTrue(self.match('orchestration', event_type))
        self.assertFalse(self.match('compute.host-1', event_type))
        self.assertFalse(self.match('orchestrationx.host', event_type))


class TestEndpoint(base.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        self.runner = RecordingRunner()
        self.endpoint = notifications.StackEndpoint(self.runner, 'esi-agent')

    def info(self, body, event_type='orchestration.stack.create.end'):
        self.endpoint.info({}, PUBLISHER, event_type, body,
                           {'message_id': str(uuid.uuid4())})

    def test_terminal_event_goes_to_runner(self):
        self.info(CREATE_END)

        self.assertEqual([(STACK_ID, NAME, 'CREATE_COMPLETE',
                           'Stack CREATE completed successfully')],
                         self.runner.events)
        self.assertEqual([['esi-agent', 'esi-job-1']], self.runner.tags)
        self.assertEqual({'received': 1, 'taken': 1}, self.endpoint.stats)

    def test_error_priority(self):
        body = dict(CREATE_ERROR, tags=['esi-agent'])
        self.endpoint.error({}, PUBLISHER, 'orchestration.stack.create.error',
                            body, {})

        self.assertEqual([(body['stack_identity'], 'cap-bad',
                           'CREATE_FAILED', body['state_reason'])],
                         self.runner.events)

    def test_event_not_taken_by_runner(self):
        self.runner.takes = False

        self.info(CREATE_END)

        self.assertEqual(1, len(self.runner.events))
        self.assertEqual({'received': 1, 'not_in_flight': 1},
                         self.endpoint.stats)

    def test_untagged_stack_ignored(self):
        self.endpoint.error({}, PUBLISHER, 'orchestration.stack.create.error',
                            CREATE_ERROR, {})
        self.info(payload(tags=['other-agent', 'esi-job-1']))

        self.assertEqual([], self.runner.events)
        self.assertEqual({'received': 2, 'not_tagged': 2},
                         self.endpoint.stats)

    def test_own_stack_tag(self):
        self.endpoint = notifications.StackEndpoint(self.runner, 'my-agent')

        self.info(CREATE_END)
        self.info(payload(tags=['my-agent']))

        self.assertEqual(1, len(self.runner.events))

    def test_payload_without_tags_goes_to_runner(self):
        body = payload()
        del body['tags']

        self.info(body)

        self.assertEqual(1, len(self.runner.events))

    def test_backup_stack_ignored(self):
        # The legacy engine deletes <name>* during an update.
        self.info(payload(stack_name=NAME + '*', state='DELETE_COMPLETE'),
                  'orchestration.stack.delete.end')

        self.assertEqual([], self.runner.events)
        self.assertEqual({'received': 1, 'backup_stack': 1},
                         self.endpoint.stats)

    def test_not_terminal_ignored(self):
        self.info(payload(state='CREATE_IN_PROGRESS'))

        self.assertEqual([], self.runner.events)
        self.assertEqual({'received': 1, 'not_terminal': 1},
                         self.endpoint.stats)

    def test_malformed_ignored(self):
        self.info(['not', 'a', 'stack'])
        self.info(payload(stack_identity=None))

        self.assertEqual([], self.runner.events)
        self.assertEqual({'received': 2, 'malformed': 2},
                         self.endpoint.stats)

    def test_runner_error_logged_not_raised(self):
        self.runner.takes = RuntimeError('boom')

        self.info(CREATE_END)

        self.assertEqual({'received': 1, 'errors': 1}, self.endpoint.stats)
        self.assertIn('Failed to handle the Heat notification',
                      self.log.output)


class FakeTransportTestCase(base.TestCase):
    """oslo.messaging's in-process fake transport, for Heat and agent."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger(level=logging.INFO))
        messaging_conf = self.useFixture(conffixture.ConfFixture(CONF))
        messaging_conf.transport_url = 'fake:/'
        # A topic of its own: the fake driver's exchanges are per process.
        self.topic = 'notifications-%s' % uuid.uuid4().hex[:8]
        self.config(notifications_topic=self.topic, group='heat')
        self.heat = self.useFixture(heat_api.FakeHeat(
            stack_time=0, notify_url='fake:/', notify_topic=self.topic))
        sess = session.Session(auth=noauth.NoAuth(endpoint=self.heat.endpoint))
        self.addCleanup(sess.session.close)
        self.client = heat_client.Client('1', session=sess,
                                         endpoint_override=self.heat.endpoint)

    def create(self, name=NAME, **kwargs):
        return self.client.stacks.create(stack_name=name, template=TEMPLATE,
                                         **kwargs)['stack']['id']


class TestListener(FakeTransportTestCase):

    def test_stand_in_notifications_reach_the_runner(self):
        runner = RecordingRunner()
        listener = notifications.NotificationListener(CONF, runner)
        listener.start()
        self.addCleanup(listener.stop)

        stack_id = self.create(tags='esi-agent,esi-job-1')
        self.create('not_ours')

        services.wait_for(lambda: listener.endpoint.stats.get('received')
                          == 2, WAIT, what='two terminal notifications')
        self.assertEqual([(stack_id, NAME, 'CREATE_COMPLETE',
                           'Stack CREATE completed successfully')],
                         runner.events)
        self.assertEqual({'received': 2, 'taken': 1, 'not_tagged': 1},
                         listener.endpoint.stats)
        # The .start notifications were sent, and filtered out.
        self.assertEqual(4, self.heat.notifications_sent)


class TestServiceWiring(FakeTransportTestCase):

    def setUp(self):
        super().setUp()
        rpc.cleanup()
        self.addCleanup(rpc.cleanup)
        self.config(rpc_topic='esi-agent-test-%s' % uuid.uuid4().hex[:8],
                    group='agent')
        self.manager = mock.Mock()
        self.manager.target = messaging.Target(version='1.0')
        self.manager.periodic_tasks.return_value = 60.0
        self.manager.etcd.txn_count = 3
        self.manager.etcd.request_count = 5
        self.manager.stacks.calls = 7
        self.manager.intake.stats = {'accepted': 1}

    def start_service(self):
        agent = service.AgentService(CONF, host='agent-1',
                                     manager=self.manager)
        agent.start()
        self.addCleanup(agent.stop)
        return agent

    def test_listener_started_and_stopped(self):
        agent = self.start_service()
        self.assertIsNotNone(agent.notifications)

        stack_id = self.create(tags='esi-agent')

        services.wait_for(lambda: self.manager.runner.stack_event.called,
                          WAIT, what='the runner to get the notification')
        self.manager.runner.stack_event.assert_called_once_with(
            stack_id, NAME, 'CREATE_COMPLETE',
            'Stack CREATE completed successfully', tags=['esi-agent'])
        agent.stop()
        stats = agent.stats()
        self.assertEqual({'received': 1, 'taken': 1}, stats['notifications'])
        self.assertEqual(3, stats['etcd_txns'])
        self.assertEqual(7, stats['heat_calls'])

    def test_listener_disabled(self):
        self.config(notifications_enabled=False, group='heat')

        agent = self.start_service()

        self.assertIsNone(agent.notifications)
        self.assertNotIn('notifications', agent.stats())

    def test_listener_failing_to_start_leaves_the_agent_running(self):
        self.useFixture(fixtures.MockPatch(
            'oslo_messaging.get_notification_listener',
            side_effect=RuntimeError('no bus')))
        log = self.useFixture(fixtures.FakeLogger(level=logging.INFO))

        agent = self.start_service()

        self.assertIsNone(agent.notifications)
        self.assertIn('Cannot listen to Heat notifications', log.output)
        self.assertIsNotNone(agent.rpcserver)
