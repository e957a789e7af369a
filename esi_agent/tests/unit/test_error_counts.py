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
"""The error counters of the etcd and Heat clients (for the metrics)."""

from unittest import mock

from etcd3gw import exceptions as etcd_exc
import fixtures
from heatclient import exc as heat_exc

from esi_agent import etcd
from esi_agent import exception
from esi_agent.heat import stacks
from esi_agent.tests import base

CONF = base.CONF


class TestEtcdErrorCount(base.TestCase):

    def setUp(self):
        super().setUp()
        self.config(group='etcd', retry_timeout=0)
        self.gateway = self.useFixture(
            fixtures.MockPatch('etcd3gw.client')).mock.return_value
        self.client = etcd.EtcdClient(CONF)

    def test_failed_attempts_counted(self):
        self.gateway.post.side_effect = [
            etcd_exc.ConnectionFailedError('refused'), {'kvs': []}]
        self.assertRaises(exception.EtcdError, self.client.get, '/k')
        self.assertIsNone(self.client.get('/k'))
        self.assertEqual((2, 1),
                         (self.client.request_count, self.client.error_count))

    def test_retried_attempts_counted(self):
        self.config(group='etcd', retry_timeout=60)
        self.useFixture(fixtures.MockPatch('tenacity.nap.time'))
        self.gateway.post.side_effect = [
            etcd_exc.ConnectionFailedError('refused')] * 2 + [{}]
        self.client.delete('/k')
        self.assertEqual((3, 2),
                         (self.client.request_count, self.client.error_count))


class TestHeatErrorCount(base.TestCase):

    def test_failed_calls_counted(self):
        self.config(api_retries=0, group='heat')
        heat = stacks.Stacks(mock.Mock(), CONF)
        heat._client.stacks.get.side_effect = [
            heat_exc.HTTPNotFound(), mock.Mock(
                id='s1', stack_name='n', stack_status='CREATE_COMPLETE',
                stack_status_reason='', tags=[])]
        self.assertIsNone(heat.find('n'))
        self.assertIsNotNone(heat.find('n'))
        self.assertEqual((2, 1), (heat.calls, heat.error_count))
