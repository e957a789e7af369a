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
from unittest import mock

from etcd3gw import exceptions as etcd_exc
import fixtures
from tooz import hashring

from esi_agent import coordination
from esi_agent.tests import base


class TestCoordinator(base.TestCase):

    def setUp(self):
        super().setUp()
        self.etcd = mock.Mock()
        self.etcd.grant_lease.side_effect = [11, 12]
        self.coordinator = coordination.Coordinator(base.CONF, 'agent-a',
                                                    self.etcd)

    def test_backend_url(self):
        self.config(host='10.0.0.5', port=2379, protocol='https',
                    ca_cert='/etc/ca.pem', group='etcd')
        self.config(lease_ttl=7, group='agent')
        url = coordination.backend_url(base.CONF)
        self.assertTrue(url.startswith('etcd3+https://10.0.0.5:2379?'), url)
        self.assertIn('membership_timeout=7', url)
        self.assertIn('ca_cert=%2Fetc%2Fca.pem', url)
        self.assertNotIn('cert_key', url)

    def test_lease_is_granted_once(self):
        self.assertEqual(11, self.coordinator.lease())
        self.assertEqual(11, self.coordinator.lease())
        self.etcd.grant_lease.assert_called_once_with(10)

    def test_expired_lease_is_replaced(self):
        self.coordinator.lease()
        self.etcd.refresh_lease.return_value = 0
        self.assertTrue(self.coordinator._keep_lease())
        self.assertEqual(12, self.coordinator.lease())

    def test_live_lease_is_kept(self):
        self.coordinator.lease()
        self.etcd.refresh_lease.return_value = 9
        self.assertFalse(self.coordinator._keep_lease())
        self.assertEqual(11, self.coordinator.lease())

    def test_alone_it_owns_every_job(self):
        self.assertTrue(all(self.coordinator.owns('job-%d' % i)
                            for i in range(50)))

    def test_ring_splits_jobs_among_members(self):
        members = [b'agent-a', b'agent-b', b'agent-c']
        self.coordinator._ring = hashring.HashRing(members)
        others = [coordination.Coordinator(base.CONF, m.decode(), self.etcd)
                  for m in members[1:]]
        for other in others:
            other._ring = hashring.HashRing(members)
        ids = ['job-%d' % i for i in range(300)]
        owners = [[c.owns(j) for c in [self.coordinator] + others]
                  for j in ids]
        # Exactly one owner per job, and every agent gets a share.
        self.assertTrue(all(sum(row) == 1 for row in owners))
        self.assertTrue(all(sum(col) > 50 for col in zip(*owners)))

    def test_loop_survives_any_failure_and_logs_it_once(self):
        # tooz's etcd3gw driver lets etcd3gw errors of heartbeat() through;
        # the loop must survive them, or the lease would expire.
        self.config(lease_ttl=2, group='agent')
        log = self.useFixture(fixtures.FakeLogger(
            name='esi_agent.coordination'))
        self.etcd.refresh_lease.return_value = 9
        tooz = self.coordinator._tooz = mock.Mock()
        tooz.get_members.return_value.get.return_value = {b'agent-a'}
        rounds = []
        stopping = self.coordinator._stopping

        def heartbeat():
            rounds.append(1)
            if len(rounds) <= 3:
                raise etcd_exc.ConnectionTimeoutError('timed out')
            if len(rounds) == 5:
                stopping.set()

        tooz.heartbeat.side_effect = heartbeat
        self.useFixture(fixtures.MockPatchObject(
            stopping, 'wait', side_effect=lambda _t: stopping.is_set()))
        self.coordinator._loop()
        self.assertEqual(5, len(rounds))
        warnings = [line for line in log.output.splitlines()
                    if line.startswith('Cannot renew')]
        self.assertEqual(1, len(warnings), log.output)
        self.assertIn('ConnectionTimeoutError', warnings[0])
        self.assertIn('renewed again', log.output)
