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
"""JobStore transactions against a real etcd."""

from esi_agent import etcd
from esi_agent.jobs import store
from esi_agent import records
from esi_agent.tests import base
from esi_agent.tests.functional import jobs
from esi_agent.tests import services


class EtcdTestCase(base.TestCase):
    """A client of the shared etcd, wiped for each test."""

    def setUp(self):
        super().setUp()
        self.server = services.shared_etcd()
        self.server.wipe()
        self.config(host='127.0.0.1', port=self.server.port, group='etcd')
        self.etcd = etcd.EtcdClient(base.CONF)


class TestJobStore(EtcdTestCase):

    def setUp(self):
        super().setUp()
        self.store = store.JobStore(self.etcd)

    def _finish(self, job, status='CREATE_COMPLETE'):
        recs = records.stack_records(
            job, 'network_' + job['resource_id'], status, 'done',
            [{'output_key': 'id', 'output_value': job['id'],
              'description': 'd'}])
        return self.store.finish(job, recs, store.COMPLETED, 1.0)

    def test_intake_once(self):
        job = jobs.network()
        arrival, seen = self.store.intake(job, 1.0)
        self.assertIsNone(seen)
        self.assertGreater(arrival, 0)
        again, seen = self.store.intake(job, 2.0)
        self.assertIsNone(again)
        self.assertEqual(store.PENDING, seen.status)
        self.assertEqual(arrival, seen.arrival)
        self.assertEqual(2, self.etcd.txn_count)

    def test_three_records_and_job_share_one_revision(self):
        job = jobs.network()
        self.store.intake(job, 1.0)
        self.assertTrue(self._finish(job))
        job_kv = self.etcd.get(store.job_key(job['id']))
        self.assertEqual(store.COMPLETED, job_kv.json()['status'])
        for key in (records.heat_stacks_key('network', job['resource_id']),
                    records.job_state_key('network', job['resource_id']),
                    records.state_key('network', job['resource_id'])):
            self.assertEqual(job_kv.mod_revision,
                             self.etcd.get(key).mod_revision, key)

    def test_lower_version_never_overwrites_higher(self):
        rid = 'b5f0e8a4-7a1e-4d1e-9c55-0d7b8a3f0101'
        v3 = jobs.network(rid=rid, version=3, action='modify')
        v2 = jobs.network(rid=rid, version=2, action='modify')
        self.assertTrue(self._finish(v3))
        self.assertFalse(self._finish(v2))
        state = self.etcd.get_json(records.state_key('network', rid))
        self.assertEqual(3, state['version'])
        self.assertEqual(store.SUPERSEDED, self.etcd.get_json(
            store.job_key(v2['id']))['status'])
        # The same version again (a retried job) is written.
        v3_again = jobs.network(rid=rid, version=3, action='modify')
        self.assertTrue(self._finish(v3_again))

    def test_records_of_the_old_worker_are_respected(self):
        rid = 'b5f0e8a4-7a1e-4d1e-9c55-0d7b8a3f0102'
        self.etcd.put(records.state_key('network', rid),
                      {'state': {'worker_state': 'MODIFY_COMPLETED'},
                       'version': 5, 'error': ''})
        self.assertFalse(self._finish(jobs.network(rid=rid, version=4)))
        self.assertTrue(self._finish(jobs.network(rid=rid, version=6)))
        state = self.etcd.get_json(records.state_key('network', rid))
        self.assertEqual(6, state['version'])

    def test_unicode_round_trip(self):
        job = jobs.network(
            params=[jobs.value('description', 'caf\u00e9 \u20ac')])
        self.store.intake(job, 1.0)
        [stored], _owners, _rev = self.store.snapshot()
        self.assertEqual(job, stored.job)

    def test_snapshot_pages_in_arrival_order(self):
        self.etcd.PAGE_SIZE = 3
        made = [jobs.network() for _ in range(8)]
        for job in made:
            self.store.intake(job, 1.0)
        self.assertEqual([j['id'] for j in made],
                         [s.job['id'] for s in self.store.snapshot()[0]])

    def test_outputs(self):
        job = jobs.network()
        self.assertIsNone(self.store.outputs('network', job['resource_id']))
        self.assertFalse(self.store.has_records('network',
                                                job['resource_id']))
        self._finish(job)
        self.assertEqual('id', self.store.outputs(
            'network', job['resource_id'])[0]['output_key'])
        self.assertTrue(self.store.has_records('network',
                                               job['resource_id']))


class TestClaims(EtcdTestCase):
    """Claims on leases: who owns an unfinished job."""

    def setUp(self):
        super().setUp()
        self.lease = self.etcd.grant_lease(30)
        self.addCleanup(lambda: self.etcd.revoke_lease(self.lease))
        self.mine = store.JobStore(self.etcd, owner='agent-a',
                                   lease=lambda: self.lease)
        self.theirs = store.JobStore(self.etcd, owner='agent-b',
                                     lease=lambda: self.lease)

    def _finish(self, job_store, job):
        recs = records.stack_records(job, 'n', 'CREATE_COMPLETE', 'ok', [])
        return job_store.finish(job, recs, store.COMPLETED, 1.0)

    def test_intake_claims_the_job_on_the_lease(self):
        job = jobs.network()
        self.mine.intake(job, 1.0)
        kv = self.etcd.get(store.claim_key(job['id']))
        self.assertEqual(b'agent-a', kv.value)
        _jobs, owners, _rev = self.mine.snapshot()
        self.assertEqual({job['id']: 'agent-a'}, owners)

    def test_completion_releases_the_claim(self):
        job = jobs.network()
        self.mine.intake(job, 1.0)
        self.assertTrue(self._finish(self.mine, job))
        self.assertIsNone(self.etcd.get(store.claim_key(job['id'])))

    def test_an_agent_that_lost_the_claim_cannot_finish(self):
        job = jobs.network()
        self.mine.intake(job, 1.0)
        self.assertRaises(store.ClaimLost, self._finish, self.theirs, job)
        self.assertIsNone(self.etcd.get(records.state_key(
            'network', job['resource_id'])))
        self.assertEqual(store.PENDING, self.etcd.get_json(
            store.job_key(job['id']))['status'])

    def test_claims_vanish_with_the_lease_and_can_be_taken(self):
        job = jobs.network()
        self.mine.intake(job, 1.0)
        self.etcd.revoke_lease(self.lease)
        self.lease = self.etcd.grant_lease(30)
        self.assertIsNone(self.etcd.get(store.claim_key(job['id'])))
        self.assertTrue(self.theirs.claim(job['id']))
        self.assertFalse(self.mine.claim(job['id']))
        self.assertTrue(self._finish(self.theirs, job))

    def test_claim_moves_an_own_claim_to_a_new_lease(self):
        job = jobs.network()
        self.mine.intake(job, 1.0)
        self.assertFalse(self.theirs.claim(job['id']))
        self.assertTrue(self.mine.claim(job['id'], previous='agent-a'))

    def test_snapshot_since_a_revision(self):
        first = jobs.network()
        self.mine.intake(first, 1.0)
        _jobs, _owners, revision = self.mine.snapshot()
        second = jobs.network()
        self.mine.intake(second, 1.0)
        changed, owners, _rev = self.mine.snapshot(since=revision)
        self.assertEqual([second['id']], [s.job['id'] for s in changed])
        self.assertEqual({first['id'], second['id']}, set(owners))
