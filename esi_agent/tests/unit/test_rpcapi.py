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

"""Unit tests of :mod:`esi_agent.rpcapi` and :mod:`esi_agent.rpc`.

Casts go through oslo.messaging's in-process ``fake`` driver to an RPC
server built by :func:`esi_agent.rpc.get_server`.
"""

import threading
import uuid

from oslo_context import context as oslo_context
import oslo_messaging as messaging
from oslo_messaging import conffixture

from esi_agent import rpc
from esi_agent import rpcapi
from esi_agent.tests import base
from esi_agent.tests import services

CONF = base.CONF

PORT_ID = 'f84496b5-dc56-4727-87b1-aa06e2471737'
JOB = {
    'id': 'create:heat_worker:port:%s:1:3xe01' % PORT_ID,
    'action': 'create',
    'handler': 'heat_worker',
    'resource_type': 'port',
    'resource_id': PORT_ID,
    'version': 1,
    'params': [
        {'param': 'name', 'type': 'value', 'value': 'p\u00f8rt-1',
         'resources': []},
        {'param': 'vlans', 'type': 'list', 'resources': [], 'value': [
            {'param': 'vlans', 'type': 'value', 'value': 42,
             'resources': []}]},
    ],
    'dependency': [],
    'on_failure': 'fail',
    'resource_input': {'tenant_id': 'c583ce78843344adbe5fd20f13620274',
                       'admin_state_up': True, 'description': None},
    'job_name': 'create port',
    'is_first': True,
    'is_last': False,
}

WAIT = 10.0  # seconds: a deadline, not a delay


class RecordingEndpoint(object):
    """An RPC endpoint that records the process_job casts it gets."""

    target = messaging.Target(version='1.0')

    def __init__(self):
        self.calls = []
        self._lock = threading.Lock()

    def process_job(self, context, job):
        with self._lock:
            self.calls.append((context, job))


class RpcTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.messaging_conf = self.useFixture(conffixture.ConfFixture(CONF))
        self.messaging_conf.transport_url = 'fake:/'
        rpc.cleanup()
        self.addCleanup(rpc.cleanup)
        self.topic = 'esi-agent-test-%s' % uuid.uuid4().hex

    def start_server(self, endpoint, server='agent-1', topic=None):
        target = messaging.Target(topic=topic or self.topic, server=server)
        srv = rpc.get_server(CONF, target, [endpoint])
        srv.start()

        def stop():
            srv.stop()
            srv.wait()
        self.addCleanup(stop)
        return srv

    def wait_calls(self, endpoint, n=1):
        services.wait_for(lambda: len(endpoint.calls) >= n, WAIT,
                          what='%d process_job calls' % n)
        return endpoint.calls


class TestAgentAPI(RpcTestCase):

    def test_default_topic_and_version(self):
        self.config(rpc_topic='esi-agent-blue', group='agent')

        api = rpcapi.AgentAPI()

        self.assertEqual('esi-agent-blue', api.client.target.topic)
        self.assertEqual('1.0', api.client.target.version)
        self.assertEqual('1.0', api.client.version_cap)

    def test_default_topic(self):
        self.assertEqual('esi-agent', rpcapi.AgentAPI().client.target.topic)

    def test_topic_argument(self):
        self.assertEqual('other', rpcapi.AgentAPI(
            topic='other').client.target.topic)

    def test_cast_with_request_context(self):
        endpoint = RecordingEndpoint()
        self.start_server(endpoint)
        ctx = oslo_context.RequestContext(
            user_id='u-1', project_id='p-1', request_id='req-' + 'a' * 32,
            is_admin=True)

        result = rpcapi.AgentAPI(topic=self.topic).process_job(ctx, JOB)

        self.assertIsNone(result)
        [(got_ctx, job)] = self.wait_calls(endpoint)
        self.assertEqual(JOB, job)
        self.assertIsInstance(got_ctx, oslo_context.RequestContext)
        self.assertEqual('u-1', got_ctx.user_id)
        self.assertEqual('p-1', got_ctx.project_id)
        self.assertEqual('req-' + 'a' * 32, got_ctx.request_id)
        self.assertTrue(got_ctx.is_admin)

    def test_cast_with_dict_context(self):
        endpoint = RecordingEndpoint()
        self.start_server(endpoint)

        # A context as a dict, in RequestContext.to_dict() form, plus a key
        # oslo.context does not know.
        rpcapi.AgentAPI(topic=self.topic).process_job(
            {'user': 'u-2', 'project_id': 'p-2', 'request_id': 'req-2',
             'esi_extra': 'x'}, JOB)

        [(got_ctx, job)] = self.wait_calls(endpoint)
        self.assertEqual(JOB, job)
        self.assertIsInstance(got_ctx, oslo_context.RequestContext)
        self.assertEqual('u-2', got_ctx.user_id)
        self.assertEqual('p-2', got_ctx.project_id)
        self.assertEqual('req-2', got_ctx.request_id)

    def test_cast_with_empty_context(self):
        endpoint = RecordingEndpoint()
        self.start_server(endpoint)

        rpcapi.AgentAPI(topic=self.topic).process_job({}, JOB)

        [(got_ctx, job)] = self.wait_calls(endpoint)
        self.assertEqual(JOB, job)
        self.assertIsInstance(got_ctx, oslo_context.RequestContext)

    def test_cast_does_not_wait_for_the_server(self):
        # No server yet: a cast returns at once and is delivered later.
        api = rpcapi.AgentAPI(topic=self.topic)
        api.process_job({}, JOB)
        endpoint = RecordingEndpoint()

        self.start_server(endpoint)

        self.assertEqual(JOB, self.wait_calls(endpoint)[0][1])

    def test_many_casts(self):
        endpoint = RecordingEndpoint()
        self.start_server(endpoint)
        api = rpcapi.AgentAPI(topic=self.topic)
        jobs = [dict(JOB, id='job-%d' % i) for i in range(20)]

        for job in jobs:
            api.process_job({}, job)

        calls = self.wait_calls(endpoint, len(jobs))
        self.assertEqual(sorted(j['id'] for j in jobs),
                         sorted(job['id'] for _, job in calls))

    def test_each_cast_reaches_one_agent(self):
        agents = [RecordingEndpoint(), RecordingEndpoint()]
        self.start_server(agents[0], server='agent-1')
        self.start_server(agents[1], server='agent-2')
        api = rpcapi.AgentAPI(topic=self.topic)
        ids = ['job-%d' % i for i in range(20)]

        for job_id in ids:
            api.process_job({}, dict(JOB, id=job_id))

        services.wait_for(
            lambda: sum(len(a.calls) for a in agents) >= len(ids), WAIT,
            what='20 casts')
        got = [job['id'] for a in agents for _, job in a.calls]
        self.assertEqual(sorted(ids), sorted(got))

    def test_other_topic_not_reached(self):
        endpoint = RecordingEndpoint()
        other = RecordingEndpoint()
        self.start_server(endpoint)
        self.start_server(other, topic=self.topic + '-other')

        rpcapi.AgentAPI(topic=self.topic).process_job({}, JOB)

        self.wait_calls(endpoint)
        self.assertEqual([], other.calls)


class TestSerializer(base.TestCase):

    def setUp(self):
        super().setUp()
        self.serializer = rpc.RequestContextSerializer()

    def test_context_round_trip(self):
        ctx = oslo_context.RequestContext(user_id='u', project_id='p',
                                          request_id='req-1')

        data = self.serializer.serialize_context(ctx)
        back = self.serializer.deserialize_context(data)

        self.assertIsInstance(data, dict)
        self.assertEqual('u', back.user_id)
        self.assertEqual('p', back.project_id)
        self.assertEqual('req-1', back.request_id)

    def test_dict_and_none_contexts(self):
        self.assertEqual({'user_id': 'u'},
                         self.serializer.serialize_context({'user_id': 'u'}))
        self.assertEqual({}, self.serializer.serialize_context(None))
        self.assertIsInstance(self.serializer.deserialize_context(None),
                              oslo_context.RequestContext)

    def test_entities_pass_through_base(self):
        serializer = rpc.RequestContextSerializer(
            messaging.JsonPayloadSerializer())
        self.assertEqual(JOB, serializer.deserialize_entity(
            {}, serializer.serialize_entity({}, JOB)))


class TestTransport(base.TestCase):

    def setUp(self):
        super().setUp()
        self.messaging_conf = self.useFixture(conffixture.ConfFixture(CONF))
        self.messaging_conf.transport_url = 'fake:/'
        rpc.cleanup()
        self.addCleanup(rpc.cleanup)

    def test_transport_shared_then_cleaned_up(self):
        first = rpc.init(CONF)
        self.assertIs(first, rpc.init(CONF))
        self.assertIs(first, rpc.TRANSPORT)

        rpc.cleanup()

        self.assertIsNone(rpc.TRANSPORT)
        self.assertIsNot(first, rpc.init(CONF))
        rpc.cleanup()
        rpc.cleanup()
